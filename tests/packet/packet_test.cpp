// Packet and Map: construction, keyed access, typed reads with key context, channels, printing.
#include <sprocket/packet.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <random>
#include <type_traits>
#include <utility>
#include <sstream>
#include <string>
#include <vector>

using namespace sprocket;

TEST_CASE("a packet is built from an initializer list and read back by key") {
    Packet p{{"x", 3}, {"y", 2.5}, {"id", "Player 1"}};
    CHECK(p.size() == 3);
    CHECK(p.get<int>("x") == 3);
    CHECK(p.get<double>("y") == 2.5);
    CHECK(p.get<std::string>("id") == "Player 1");
    CHECK(p.get<double>("x") == 3.0);  // int -> double is lossless
}

TEST_CASE("nested maps and lists read like the data") {
    Packet p{{"pos", {{"x", 1}, {"y", 2}}}, {"tags", List{"a", "b"}}, {"inv", Map{{"gold", 5}}}};
    CHECK(p.get<Map>("pos").get<int>("y") == 2);
    CHECK(p.get<std::vector<std::string>>("tags") == std::vector<std::string>{"a", "b"});
    CHECK(p.at("inv").as<Map>().get<int>("gold") == 5);
}

TEST_CASE("a repeated key in a literal keeps the last value") {
    Packet p{{"a", 1}, {"b", 2}, {"a", 3}};
    CHECK(p.size() == 2);
    CHECK(p.get<int>("a") == 3);
}

TEST_CASE("operator[] inserts null and assigns") {
    Packet p;
    p["hp"] = 100;
    CHECK(p.get<int>("hp") == 100);
    p["hp"] = "full";
    CHECK(p.get<std::string>("hp") == "full");
    CHECK(p["new"].is_null());
    CHECK(p.size() == 2);
}

TEST_CASE("set, has, erase, find, size and clear") {
    Packet p;
    CHECK(p.empty());
    p.set("b", 2).as<int>();
    p.set("a", 1);
    p.set("b", 20);
    CHECK(p.size() == 2);
    CHECK(p.has("a"));
    CHECK_FALSE(p.has("z"));
    REQUIRE(p.find("b") != nullptr);
    CHECK(*p.find("b") == Value(20));
    CHECK(p.find("z") == nullptr);
    CHECK(p.erase("a"));
    CHECK_FALSE(p.erase("a"));
    CHECK(p.size() == 1);
    p.clear();
    CHECK(p.empty());
}

TEST_CASE("iteration visits entries in key order") {
    Packet p{{"zeta", 1}, {"alpha", 2}, {"mid", 3}};
    std::vector<std::string> keys;
    for (const auto& [key, value] : p) keys.push_back(key);
    CHECK(keys == std::vector<std::string>{"alpha", "mid", "zeta"});
}

TEST_CASE("a missing key throws KeyError naming the key and the type asked for") {
    Packet p{{"x", 1}};
    CHECK_THROWS_WITH_AS(p.get<int>("hp"), "[sprocket.packet] key \"hp\" not found (asked for int32)", KeyError);
    CHECK_THROWS_WITH_AS(p.at("hp"), "[sprocket.packet] key \"hp\" not found", KeyError);
    CHECK_THROWS_AS(p.get<int>("hp"), AccessError);
}

TEST_CASE("a wrong type throws TypeError naming key, asked type and held type") {
    Packet p{{"x", "abc"}, {"n", 300}, {"r", 2.5}};
    CHECK_THROWS_WITH_AS(p.get<int>("x"), "[sprocket.packet] key \"x\": asked for int32, but holds string \"abc\"",
                         TypeError);
    CHECK_THROWS_WITH_AS(p.get<std::uint8_t>("n"), "[sprocket.packet] key \"n\": asked for uint8, but holds integer 300",
                         TypeError);
    CHECK_THROWS_WITH_AS(p.get<int>("r"), "[sprocket.packet] key \"r\": asked for int32, but holds real 2.5",
                         TypeError);
    CHECK_THROWS_WITH_AS(p.get<int>("a\nb"), "[sprocket.packet] key \"a\\nb\" not found (asked for int32)", KeyError);
}

TEST_CASE("get_or falls back when absent or null, and throws TypeError for another type") {
    Packet p{{"hp", 50}, {"name", "ann"}, {"big", 1000}, {"none", nullptr}, {"x", 2.5}};
    CHECK(p.get_or("hp", 100) == 50);
    CHECK(p.get_or("mp", 100) == 100);
    CHECK(p.get_or("none", 100) == 100);
    CHECK(p.get_or("name", "anon") == "ann");
    CHECK(p.get_or("title", "anon") == "anon");
    CHECK(p.get_or("hp", 0.5) == 50.0);
    // A mistyped value is a bug in the sender or the reader, not an absence: said, not hidden.
    CHECK_THROWS_WITH_AS(p.get_or("name", 7), "[sprocket.packet] key \"name\": asked for int32, but holds string \"ann\"",
                         TypeError);
    CHECK_THROWS_AS(p.get_or<std::uint8_t>("big", 9), TypeError);
    CHECK_THROWS_WITH_AS(p.get_or("x", 0), "[sprocket.packet] key \"x\": asked for int32, but holds real 2.5", TypeError);
    CHECK(p.get_or("x", 0.0) == 2.5);
    // try_get is the read that never throws.
    CHECK_FALSE(p.try_get<int>("name").has_value());
}

TEST_CASE("try_get gives an optional") {
    Packet p{{"hp", 50}};
    CHECK(p.try_get<int>("hp") == 50);
    CHECK_FALSE(p.try_get<int>("mp").has_value());
    CHECK_FALSE(p.try_get<std::string>("hp").has_value());
}

TEST_CASE("a reference from operator[] survives inserting other keys") {
    Packet p;
    p["b"] = 5;
    p["a"] = p["b"];  // the right side is evaluated first; inserting "a" must not move "b"
    CHECK(p.get<int>("a") == 5);
    p["z"] = p["new"];  // both new
    CHECK(p["z"].is_null());
    Value& held = p["b"];
    for (int i = 0; i < 1000; ++i) p["k" + std::to_string(i)] = i;
    held = "still here";
    CHECK(p.get<std::string>("b") == "still here");
    p.set("copy", p.at("b"));
    CHECK(p.get<std::string>("copy") == "still here");
}

TEST_CASE("references survive growth, erasure, reuse of erased slots, and moving the map") {
    Map m;
    std::vector<int> order(3000);
    for (int i = 0; i < 3000; ++i) order[static_cast<std::size_t>(i)] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(7));
    std::vector<std::pair<std::string, Value*>> refs;
    for (int i : order) {
        const std::string key = "k" + std::to_string(i);
        Value& v = m[key];
        v = i;
        refs.emplace_back(key, &v);
    }
    CHECK(m.size() == 3000);
    for (const auto& [key, at] : refs) REQUIRE(m.find(key) == at);
    CHECK(std::is_sorted(m.begin(), m.end(), [](const Map::Entry& a, const Map::Entry& b) { return a.first < b.first; }));

    std::vector<std::pair<std::string, Value*>> kept;
    for (std::size_t i = 0; i < refs.size(); ++i) {
        if (i % 3 == 0)
            CHECK(m.erase(refs[i].first));
        else
            kept.push_back(refs[i]);
    }
    CHECK_FALSE(m.erase(refs[0].first));
    for (int i = 0; i < 1500; ++i) m.set("new" + std::to_string(i), std::string(i % 40, 'n'));  // reuses slots
    CHECK(m.size() == kept.size() + 1500);
    for (const auto& [key, at] : kept) {
        REQUIRE(m.find(key) == at);
        CHECK(at->as<int>() == std::stoi(key.substr(1)));
    }

    const Map moved(std::move(m));
    CHECK(m.empty());  // NOLINT(bugprone-use-after-move): moved-from maps are empty
    for (const auto& [key, at] : kept) REQUIRE(moved.find(key) == at);
    m["again"] = 1;  // a moved-from map is usable
    CHECK(m == Map{{"again", 1}});
}

TEST_CASE("p[a] = p[b] holds when inserting a needs a new block, in a literal's or a decoded map") {
    Packet p{{"a1", 1}, {"a2", 2}, {"a3", 3}, {"a4", 4}};  // one block, exactly full
    p["b"] = p["a2"];
    p["c"] = p["a3"];
    CHECK(p == Packet{{"a1", 1}, {"a2", 2}, {"a3", 3}, {"a4", 4}, {"b", 2}, {"c", 3}});
    Map m;
    for (int i = 0; i < 4; ++i) m[std::string(1, static_cast<char>('a' + i))] = i;  // the first block, full
    m["z"] = m["b"];
    m.set("y", m.at("c"));
    CHECK(m.get<int>("z") == 1);
    CHECK(m.get<int>("y") == 2);
}

TEST_CASE("copies are deep, and assignment from inside the map itself is safe") {
    Map m{{"sub", Map{{"x", 1}, {"y", Map{{"z", 2}}}}}, {"k", "a string longer than any small buffer"}};
    Map copy = m;
    CHECK(copy == m);
    copy["k"] = 1;
    CHECK(m.get<std::string>("k") == "a string longer than any small buffer");
    copy = copy;  // NOLINT: self-assignment on purpose
    CHECK(copy.get<int>("k") == 1);

    m = *m.at("sub").get_if<Map>();  // copied from one of its own values
    CHECK(m == Map{{"x", 1}, {"y", Map{{"z", 2}}}});
    m = std::move(*m.at("y").get_if<Map>());  // moved from one of its own values
    CHECK(m == Map{{"z", 2}});

    Value v = Map{{"in", Map{{"deep", 1}}}};
    v = v.get_if<Map>()->at("in");
    CHECK(v == Value(Map{{"deep", 1}}));

    Map a{{"a", 1}}, b{{"b", 2}, {"c", 3}};
    Value& held = b["c"];
    swap(a, b);
    CHECK(a.size() == 2);
    CHECK(&a["c"] == &held);
    CHECK(b == Map{{"a", 1}});
}

TEST_CASE("erasing the last entry or clearing gives the memory back, the map stays usable") {
    Map m{{"a", 1}, {"b", 2}};
    CHECK(memory_footprint(m) > sizeof(Map));
    CHECK(m.erase("a"));
    CHECK(m.erase("b"));
    CHECK(m.empty());
    CHECK(memory_footprint(m) == sizeof(Map));
    m["c"] = 3;
    m.clear();
    CHECK(memory_footprint(m) == sizeof(Map));
    CHECK(m.begin() == m.end());
    m["d"] = 4;
    CHECK(m == Map{{"d", 4}});
}

TEST_CASE("map iterators walk in key order both ways") {
    Map m{{"b", 2}, {"a", 1}, {"c", 3}};
    static_assert(std::is_same_v<std::iterator_traits<Map::iterator>::iterator_category, std::bidirectional_iterator_tag>);
    Map::const_iterator it = m.begin();  // from a mutable one
    CHECK(it->first == "a");
    CHECK((it++)->first == "a");
    CHECK((*it).first == "b");
    CHECK(std::prev(m.end())->first == "c");
    auto last = m.end();
    CHECK((--last)->second.as<int>() == 3);
    CHECK(std::distance(m.begin(), m.end()) == 3);
    const Map& cm = m;
    CHECK(cm.begin() != cm.end());
}

TEST_CASE("memory_footprint counts what a value holds") {
    CHECK(memory_footprint(Value()) == sizeof(Value));
    CHECK(memory_footprint(Value(std::string(100, 'x'))) >= sizeof(Value) + 101);
    CHECK(memory_footprint(Value("short")) == sizeof(Value));
    CHECK(memory_footprint(Value(Bytes(1000))) == sizeof(Value) + 1000);
    List list;
    list.reserve(10);
    list.emplace_back(Bytes(5));
    CHECK(memory_footprint(Value(list)) >= sizeof(Value) + list.size() * sizeof(Value) + 5);
    const Packet p = Packet::on(std::string(40, 'c'), {{"k", 1}});
    CHECK(memory_footprint(p) > sizeof(Packet) + 40);
}

TEST_CASE("in a literal, when a key repeats the last one wins, whatever the order") {
    const Map m{{"b", 1}, {"a", 2}, {"b", 3}, {"c", 4}, {"a", 5}, {"b", 6}};
    CHECK(m.size() == 3);
    CHECK(m == Map{{"a", 5}, {"b", 6}, {"c", 4}});
    CHECK(m.begin()->first == "a");
    Map grown = m;
    Map literal{{"z", 1}, {"z", 2}, {"y", 0}};  // the freed slot is reused by the next insertion
    const Value* z = literal.find("z");
    literal["x"] = 3;
    CHECK(literal.find("z") == z);
    CHECK(literal == Map{{"x", 3}, {"y", 0}, {"z", 2}});
    const Packet p{{"k", "first"}, {"k", "second"}};
    CHECK(p.get<std::string>("k") == "second");
    CHECK(grown == m);
}

TEST_CASE("a literal built again with other keys in the same places is sorted anew") {
    // Its first key is the same string (same memory, same size) each time, as in a game's
    // literal written once and built every frame; here the keys after it change between
    // builds, into another order, a repeat, and the order of the build before.
    std::string keys[4] = {"m", "a", "z", "q"};
    auto build = [&] { return Map{{keys[0], 0}, {keys[1], 1}, {keys[2], 2}, {keys[3], 3}}; };
    auto key_order = [](const Map& m) {
        std::string order;
        for (const auto& entry : m) order += entry.first;
        return order;
    };
    CHECK(key_order(build()) == "amqz");
    CHECK(key_order(build()) == "amqz");  // the same again
    keys[1] = "y";
    CHECK(key_order(build()) == "mqyz");
    CHECK(build().get<int>("y") == 1);
    keys[2] = "m";  // a repeat of the first: the last one wins
    const Map repeated = build();
    CHECK(key_order(repeated) == "mqy");
    CHECK(repeated.get<int>("m") == 2);
    keys[0] = "b";  // the same memory, another key
    keys[1] = "a";
    keys[2] = "z";
    CHECK(key_order(build()) == "abqz");
    CHECK(build().get<int>("b") == 0);
    for (const Map& m : {build(), Map{{"x", 1}, {"w", 2}}, build()})
        CHECK(std::is_sorted(m.begin(), m.end(), [](const Map::Entry& a, const Map::Entry& b) { return a.first < b.first; }));
}

TEST_CASE("a literal's values move into the map, built once: a big bytes value keeps its buffer") {
    Bytes blob(1 << 20, 7);
    const std::uint8_t* buffer = blob.data();
    const Packet p{{"blob", std::move(blob)}, {"none", {}}, {"pos", {{"x", 1}}}};
    CHECK(p.at("blob").get_if<Bytes>()->data() == buffer);  // moved twice, copied never
    CHECK(p.at("none").is_null());                            // `{}` is null, as `Value v = {}` is
    CHECK(p.get<Map>("pos").get<int>("x") == 1);
}

TEST_CASE("a literal longer than sixteen fields, keys out of order and repeated, is sorted with the last of each kept") {
    const Map m{{"q", 0}, {"p", 1}, {"o", 2}, {"n", 3}, {"m", 4}, {"l", 5}, {"k", 6}, {"j", 7}, {"i", 8},
                {"h", 9}, {"g", 10}, {"f", 11}, {"e", 12}, {"d", 13}, {"c", 14}, {"b", 15}, {"a", 16}, {"q", 17}};
    CHECK(m.size() == 17);
    CHECK(m.begin()->first == "a");
    CHECK(m.get<int>("q") == 17);
    CHECK(std::is_sorted(m.begin(), m.end(), [](const Map::Entry& a, const Map::Entry& b) { return a.first < b.first; }));
}

TEST_CASE("values can be changed while iterating") {
    Packet p{{"a", 1}, {"b", 2}};
    for (auto& [key, value] : p) value = value.as<int>() * 10;
    CHECK(p == Packet{{"a", 10}, {"b", 20}});
}

TEST_CASE("get of an optional gives nullopt for a missing key or a null") {
    Packet p{{"hp", 5}, {"none", nullptr}};
    CHECK(p.get<std::optional<int>>("hp") == 5);
    CHECK(p.get<std::optional<int>>("mp") == std::nullopt);
    CHECK(p.get<std::optional<int>>("none") == std::nullopt);
    CHECK_THROWS_AS(p.get<std::optional<std::string>>("hp"), TypeError);
}

TEST_CASE("reals that are whole numbers read as integers") {
    Packet p{{"x", 3.0}, {"y", 2.5}};
    CHECK(p.get<int>("x") == 3);
    CHECK_THROWS_AS(p.get_or("y", 0), TypeError);
}

TEST_CASE("channels") {
    Packet plain{{"a", 1}};
    CHECK(plain.channel().empty());
    auto chat = Packet::on("chat", {{"text", "gg"}});
    CHECK(chat.channel() == "chat");
    CHECK(chat.get<std::string>("text") == "gg");
    plain.set_channel("state");
    CHECK(plain.channel() == "state");
}

TEST_CASE("equality covers entries and channel, not insertion order") {
    Packet a{{"x", 1}, {"y", 2}};
    Packet b;
    b["y"] = 2;
    b["x"] = 1;
    CHECK(a == b);
    b["x"] = 1.0;
    CHECK(a != b);
    Packet c = a;
    c.set_channel("other");
    CHECK(a != c);
}

TEST_CASE("a packet stored inside a value becomes a plain map") {
    Packet inner = Packet::on("ignored", {{"k", 1}});
    Packet outer{{"inner", inner}};
    CHECK(outer.at("inner").type() == ValueType::map);
    CHECK(outer.get<Packet>("inner") == Packet{{"k", 1}});
}

TEST_CASE("packets print as JSON-like text, with the channel first") {
    Packet p{{"id", 17}, {"name", "Player 1"}, {"alive", true}};
    CHECK(to_string(p) == "{\"alive\": true, \"id\": 17, \"name\": \"Player 1\"}");
    CHECK(to_string(Packet::on("chat", {{"text", "hi"}})) == "#chat {\"text\": \"hi\"}");
    CHECK(to_string(Packet{}) == "{}");
    CHECK(to_string(Packet::on("a b\n", {})) == "#\"a b\\n\" {}");  // wire data: escaped
    CHECK(to_string(Packet::on("state/v2", {})) == "#state/v2 {}");
    std::ostringstream os;
    os << Packet{{"a", List{1, 2}}};
    CHECK(os.str() == "{\"a\": [1, 2]}");
}

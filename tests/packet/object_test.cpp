// User types: anything cereal can serialize is stored as an object and read back as itself.
#include <sprocket/codec.hpp>

#include <cereal/types/memory.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

using namespace sprocket;

namespace game {
struct Vec2 {
    float x = 0, y = 0;
    template <class Archive>
    void serialize(Archive& ar) { ar(x, y); }
    friend bool operator==(const Vec2& a, const Vec2& b) { return a.x == b.x && a.y == b.y; }
};

struct Loadout {
    std::string name;
    std::vector<int> items;
    Vec2 spawn;
    template <class Archive>
    void serialize(Archive& ar) { ar(CEREAL_NVP(name), CEREAL_NVP(items), CEREAL_NVP(spawn)); }
    friend bool operator==(const Loadout& a, const Loadout& b) {
        return a.name == b.name && a.items == b.items && a.spawn == b.spawn;
    }
};

struct Health {  // save/load pair instead of serialize
    int hp = 0;
    template <class Archive>
    void save(Archive& ar) const { ar(hp); }
    template <class Archive>
    void load(Archive& ar) { ar(hp); }
};

struct Node {  // recursive: a chain of nodes
    int value = 0;
    std::unique_ptr<Node> next;
    template <class Archive>
    void serialize(Archive& ar) { ar(value, next); }
};

struct Wide {
    std::vector<std::uint64_t> numbers;
    template <class Archive>
    void serialize(Archive& ar) { ar(numbers); }
};
}  // namespace game

TEST_CASE("a user type is stored as an object and read back as itself") {
    Packet p{{"pos", game::Vec2{1.5f, -2}}};
    CHECK(p.at("pos").type() == ValueType::object);
    CHECK(p.get<game::Vec2>("pos") == game::Vec2{1.5f, -2});
}

TEST_CASE("objects survive an encode/decode round trip") {
    game::Loadout loadout{"ranger", {3, 1, 4}, {10, 20}};
    Packet p{{"loadout", loadout}, {"hp", game::Health{42}}};
    auto decoded = decode(encode(p));
    REQUIRE(decoded.ok());
    CHECK(decoded.packet() == p);
    CHECK(decoded->get<game::Loadout>("loadout") == loadout);
    CHECK(decoded->get<game::Health>("hp").hp == 42);
}

TEST_CASE("a list of user types becomes a list of objects") {
    Packet p{{"path", std::vector<game::Vec2>{{1, 2}, {3, 4}}}};
    CHECK(p.at("path").type() == ValueType::list);
    CHECK(p.get<std::vector<game::Vec2>>("path") == std::vector<game::Vec2>{{1, 2}, {3, 4}});
}

TEST_CASE("reading an object as the wrong type fails cleanly") {
    Packet p{{"pos", game::Vec2{1, 2}}, {"n", 5}};
    // 8 bytes of floats do not decode as a Loadout (its string size would exceed them).
    CHECK_THROWS_AS(p.get<game::Loadout>("pos"), TypeError);
    CHECK_FALSE(p.try_get<game::Loadout>("pos").has_value());
    CHECK_THROWS_WITH_AS(p.get<game::Vec2>("n"),
                         "[sprocket.packet] key \"n\": asked for object game::Vec2, but holds integer 5", TypeError);
    CHECK_THROWS_AS(p.get_or("n", game::Vec2{9, 9}), TypeError);
    CHECK(p.get_or("absent", game::Vec2{9, 9}) == game::Vec2{9, 9});
}

TEST_CASE("an object whose bytes are too short or too long is not read") {
    Packet p{{"short", Object{Bytes{1, 2, 3}}}, {"long", Object{Bytes(9, 0)}}};
    CHECK_FALSE(p.try_get<game::Vec2>("short").has_value());
    CHECK_FALSE(p.try_get<game::Vec2>("long").has_value());  // 1 byte left over
}

TEST_CASE("an object claiming a huge container size is rejected before allocating") {
    // A Wide whose vector claims 2^60 elements: the size check fails, nothing is allocated.
    Bytes blob{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10};
    Packet p{{"w", Object{blob}}};
    CHECK_FALSE(p.try_get<game::Wide>("w").has_value());
}

TEST_CASE("a recursive user type is bounded by the depth limit") {
    auto chain = [](int n) {
        game::Node head;
        game::Node* at = &head;
        for (int i = 0; i < n; ++i) {
            at->next = std::make_unique<game::Node>();
            at = at->next.get();
        }
        return head;
    };
    Packet shallow{{"n", chain(5)}};
    CHECK(shallow.try_get<game::Node>("n").has_value());
    Packet deep{{"n", chain(200)}};
    CHECK_FALSE(deep.try_get<game::Node>("n").has_value());
    // Destroy the long chain iteratively-enough: 200 levels is fine for the stack.
}

namespace game {
struct Message {  // a user type holding sprocket values
    std::string from;
    Packet body;
    Value extra;
    template <class Archive>
    void serialize(Archive& ar) { ar(from, body, extra); }
};
}  // namespace game

TEST_CASE("through cereal's archive interface a packet has the same bytes as encode()") {
    const Packet p = Packet::on("state", {{"id", 17}, {"pos", {{"x", 1.5}}}, {"tags", List{"a", 2}}});
    Bytes via_cereal;
    {
        ByteOutputArchive out(via_cereal);
        out(p);
    }
    CHECK(via_cereal == encode(p));
    Packet back;
    ByteInputArchive in(via_cereal.data(), via_cereal.size());
    in(back);
    CHECK(back == p);
    CHECK(in.remaining() == 0);
}

TEST_CASE("a user type holding a Packet and a Value is stored and read back") {
    const game::Message m{"ann", Packet{{"text", "gg"}}, List{1, 2}};
    const Packet outer{{"msg", m}};
    auto decoded = decode(encode(outer));
    REQUIRE(decoded.ok());
    const auto back = decoded->get<game::Message>("msg");
    CHECK(back.from == "ann");
    CHECK(back.body == Packet{{"text", "gg"}});
    CHECK(back.extra == Value(List{1, 2}));
}

TEST_CASE("the archives round-trip primitives compactly") {
    Bytes bytes;
    {
        ByteOutputArchive out(bytes);
        out(std::int32_t{-1}, std::uint16_t{300}, true, std::string("hi"), 1.5f);
    }
    CHECK(bytes == Bytes{0x01, 0xac, 0x02, 0x01, 0x02, 'h', 'i', 0x00, 0x00, 0xc0, 0x3f});
    std::int32_t a = 0;
    std::uint16_t b = 0;
    bool c = false;
    std::string d;
    float e = 0;
    ByteInputArchive in(bytes.data(), bytes.size());
    in(a, b, c, d, e);
    CHECK(a == -1);
    CHECK(b == 300);
    CHECK(c);
    CHECK(d == "hi");
    CHECK(e == 1.5f);
    CHECK(in.remaining() == 0);
}

TEST_CASE("the input archive reports malformed primitives as DecodeException") {
    SUBCASE("a bool that is not 0 or 1") {
        Bytes bytes{2};
        ByteInputArchive in(bytes.data(), bytes.size());
        bool b = false;
        CHECK_THROWS_AS(in(b), DecodeException);
    }
    SUBCASE("an integer out of range for its type") {
        Bytes bytes{0xac, 0x02};  // 300 as a varint
        ByteInputArchive in(bytes.data(), bytes.size());
        std::int16_t small = 0;
        CHECK_NOTHROW(in(small));  // zigzag 300 -> 150 fits
        Bytes big{0xff, 0xff, 0x07};  // zigzag -65536: too small for int16
        ByteInputArchive in2(big.data(), big.size());
        try {
            in2(small);
            FAIL("expected a DecodeException");
        } catch (const DecodeException& e) {
            CHECK(e.error().code == DecodeErrc::bad_value);
        }
    }
    SUBCASE("reading past the end") {
        Bytes bytes{0x00, 0x00};
        ByteInputArchive in(bytes.data(), bytes.size());
        double d = 0;
        try {
            in(d);
            FAIL("expected a DecodeException");
        } catch (const DecodeException& e) {
            CHECK(e.error().code == DecodeErrc::truncated);
            CHECK(std::string(e.what()) == e.error().message);
        }
    }
}

namespace jam {
// std::string and std::vector members need no cereal include of their own (archive.hpp has them).
struct Named {
    std::string name;
    std::vector<int> scores;
    template <class A>
    void serialize(A& a) { a(name, scores); }
    friend bool operator==(const Named& x, const Named& y) { return x.name == y.name && x.scores == y.scores; }
};
}  // namespace jam

TEST_CASE("a type with std::string and std::vector members round-trips") {
    Packet p{{"who", jam::Named{"ann", {1, 2}}}};
    const DecodeResult back = decode(encode(p));
    REQUIRE(back.ok());
    CHECK(back.packet().get<jam::Named>("who") == jam::Named{"ann", {1, 2}});
}

// Encoding and decoding well-formed packets: every value type, nesting, the exact layout.
#include <sprocket/codec.hpp>

#include "wire_builder.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using namespace sprocket;

namespace {
Packet round_trip(const Packet& p) {
    auto result = decode(encode(p));
    REQUIRE_MESSAGE(result.ok(), (result.ok() ? "" : result.error().message));
    return std::move(result).packet();
}

const Packet reference{{"id", 17}, {"name", "Player 1"}, {"x", 312.5}, {"y", -48.25},
                       {"angle", 1.25}, {"hp", 100}, {"alive", true}};

// A random value of every type, nested up to a few levels; strings and keys both shorter and
// longer than std::string's own buffer.
Value random_value(std::mt19937& rng, int depth) {
    switch (rng() % (depth > 3 ? 8 : 10)) {
        case 0: return nullptr;
        case 1: return rng() % 2 == 0;
        case 2: return static_cast<std::int64_t>(rng()) - static_cast<std::int64_t>(rng()) * 4096;
        case 3: return static_cast<double>(rng()) / 7.0;
        case 4: return std::string(rng() % 60, static_cast<char>('a' + rng() % 26));
        case 5: return Bytes(rng() % 70, static_cast<std::uint8_t>(rng()));
        case 6: return static_cast<float>(rng() % 1000) / 4.0f;
        case 7: return Object{Bytes(rng() % 30, 2)};
        case 8: {
            List l;
            for (std::size_t i = rng() % 6; i > 0; --i) l.push_back(random_value(rng, depth + 1));
            return l;
        }
        default: {
            Map m;
            for (std::size_t i = rng() % 9; i > 0; --i)
                m.set(std::string(rng() % 20, 'k') + std::to_string(rng() % 100), random_value(rng, depth + 1));
            return m;
        }
    }
}

// Up to 11 random values under keys of any length, on the default channel or a random one.
Packet random_packet(std::mt19937& rng) {
    Packet p;
    for (std::size_t k = rng() % 12; k > 0; --k) p.set(std::string(rng() % 24, 'p') + std::to_string(k), random_value(rng, 0));
    if (rng() % 2 == 0) p.set_channel(std::string(rng() % 30, 'c'));
    return p;
}
}  // namespace

TEST_CASE("every value type round-trips") {
    const Packet p{{"null", nullptr},
                   {"false", false},
                   {"true", true},
                   {"zero", 0},
                   {"neg", -1},
                   {"min", INT64_MIN},
                   {"max", INT64_MAX},
                   {"f32", 1.5},
                   {"f64", 0.1},
                   {"inf", -std::numeric_limits<double>::infinity()},
                   {"empty", ""},
                   {"text", "héllo wörld"},
                   {"bytes", Bytes{0, 1, 2, 255}},
                   {"nobytes", Bytes{}},
                   {"list", List{1, "two", 3.5, nullptr, List{}}},
                   {"map", Map{{"a", 1}, {"b", Map{}}}},
                   {"object", Object{Bytes{9, 8, 7}}},
                   {"", "empty key"}};
    CHECK(round_trip(p) == p);
}

TEST_CASE("strings with embedded zero bytes keep their length") {
    const std::string s("a\0b", 3);
    const Packet p{{"s", s}};
    CHECK(round_trip(p).get<std::string>("s") == s);
}

TEST_CASE("deep nesting up to the limit round-trips") {
    Value v = 1;
    for (int i = 0; i < 32; ++i) v = List{v};  // 32 levels of lists inside the packet
    const Packet p{{"deep", v}};
    CHECK(round_trip(p) == p);
}

TEST_CASE("reals: exact floats take 4 bytes, others 8, NaN keeps its bits") {
    CHECK(encode(Packet{{"x", 312.5}}).size() + 4 == encode(Packet{{"x", 0.1}}).size());
    const Packet p{{"tiny", 1e-45}, {"big", 1e300}, {"denormal", std::numeric_limits<float>::denorm_min()},
                   {"neg0", -0.0}};
    const Packet q = round_trip(p);
    CHECK(q == p);
    CHECK(std::signbit(q.get<double>("neg0")));
    const double nan = std::nan("0x5");
    const Packet n = round_trip(Packet{{"nan", nan}});
    const double back = n.get<double>("nan");
    CHECK(std::memcmp(&back, &nan, sizeof nan) == 0);
}

TEST_CASE("channels round-trip") {
    const Packet p = Packet::on("chat", {{"text", "gg"}});
    const Packet q = round_trip(p);
    CHECK(q.channel() == "chat");
    CHECK(q == p);
}

TEST_CASE("the reference state packet is compact and laid out as PROTOCOL.md says") {
    const Bytes bytes = encode(reference);
    CHECK(bytes.size() <= 80);
    const Bytes expected = wire::cat({
        wire::str(""), wire::varint(7),
        wire::str("alive"), wire::byte(wire::t),
        wire::str("angle"), wire::byte(wire::real32), Bytes{0x00, 0x00, 0xa0, 0x3f},
        wire::str("hp"), wire::byte(wire::integer), wire::varint(200),
        wire::str("id"), wire::byte(wire::integer), wire::varint(34),
        wire::str("name"), wire::byte(wire::string), wire::str("Player 1"),
        wire::str("x"), wire::byte(wire::real32), Bytes{0x00, 0x40, 0x9c, 0x43},
        wire::str("y"), wire::byte(wire::real32), Bytes{0x00, 0x00, 0x41, 0xc2},
    });
    CHECK(bytes == expected);
    CHECK(bytes.size() == 60);
}

TEST_CASE("encoding is deterministic and independent of insertion order") {
    Packet a;
    a["b"] = 1;
    a["a"] = 2;
    Packet b{{"a", 2}, {"b", 1}};
    CHECK(encode(a) == encode(b));
}

TEST_CASE("encode_to appends") {
    Bytes out{0xee};
    encode_to(Packet{{"k", 1}}, out);
    CHECK(out.size() == 1 + encode(Packet{{"k", 1}}).size());
    CHECK(out[0] == 0xee);
}

TEST_CASE("packets of every size encode to the same bytes as the archive writes") {
    // Past its 4 KiB staging buffer, encode_to measures the packet, reserves, and appends:
    // small values around the staging buffer's edges, and payloads bigger than it.
    std::mt19937 rng(99);
    List many;
    for (int i = 0; i < 20000; ++i) {
        switch (i % 5) {
            case 0: many.emplace_back(static_cast<std::int64_t>(rng()) * (i % 2 == 0 ? 1 : -1)); break;
            case 1: many.emplace_back(std::string(rng() % 700, 'x')); break;
            case 2: many.emplace_back(Bytes(rng() % 1100, static_cast<std::uint8_t>(i))); break;
            case 3: many.emplace_back(static_cast<double>(rng()) / 3.0); break;
            default: many.emplace_back(Map{{"k", i}, {std::string(rng() % 300, 'k'), nullptr}}); break;
        }
    }
    const Packet p = Packet::on("big", {{"many", many}, {"blob", Bytes(200000, 0x5a)}, {"z", true}});
    Bytes archived;
    {
        ByteOutputArchive ar(archived);
        ar(p);  // the cereal hook: the same encoder, appending with insert
    }
    Bytes out{0xee, 0xff};
    encode_to(p, out);
    REQUIRE(out.size() == 2 + archived.size());
    CHECK(Bytes(out.begin() + 2, out.end()) == archived);
    CHECK(out[0] == 0xee);
    encode_to(p, out);  // twice in one buffer, as frames queue up
    CHECK(Bytes(out.begin() + 2 + static_cast<std::ptrdiff_t>(archived.size()), out.end()) == archived);
    CHECK(round_trip(p) == p);
    // Around the staging buffer's size: strings of 4000 to 4200 bytes, one at a time.
    for (std::size_t n = 4000; n < 4200; ++n) {
        const Packet q{{"s", std::string(n, 's')}, {"t", 1}};
        Bytes expected;
        {
            ByteOutputArchive ar(expected);
            ar(q);
        }
        REQUIRE(encode(q) == expected);
    }
}

TEST_CASE("keys written out of order by another encoder are accepted and sorted") {
    const Bytes bytes = wire::packet(2, {wire::cat({wire::str("z"), wire::byte(wire::integer), wire::varint(2)}),
                                         wire::cat({wire::str("a"), wire::byte(wire::integer), wire::varint(4)})});
    auto result = decode(bytes);
    REQUIRE(result.ok());
    CHECK(result.packet() == Packet{{"a", 2}, {"z", 1}});
    CHECK(result->begin()->first == "a");
}

TEST_CASE("keys in any order decode to the sorted map, however many") {
    std::vector<int> order(500);
    for (int i = 0; i < 500; ++i) order[static_cast<std::size_t>(i)] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(3));
    Packet expected;
    Bytes shuffled = wire::cat({wire::str(""), wire::varint(order.size())});
    for (int i : order) {
        const std::string key = "key" + std::to_string(i);
        expected.set(key, i);
        const Bytes entry = wire::cat({wire::str(key), wire::byte(wire::integer), wire::varint(static_cast<std::uint64_t>(i) * 2)});
        shuffled.insert(shuffled.end(), entry.begin(), entry.end());
    }
    auto result = decode(shuffled);
    REQUIRE(result.ok());
    CHECK(result.packet() == expected);
    CHECK(encode(result.packet()) == encode(expected));
    CHECK(std::is_sorted(result->begin(), result->end(),
                         [](const Map::Entry& a, const Map::Entry& b) { return a.first < b.first; }));
    // In order for a while, then not: both paths in one map, and in a nested one.
    const Bytes mixed = wire::packet(1, {wire::cat({wire::str("m"), wire::byte(wire::map), wire::varint(4),
                                                    wire::str("a"), wire::byte(wire::null), wire::str("c"), wire::byte(wire::null),
                                                    wire::str("d"), wire::byte(wire::t), wire::str("b"), wire::byte(wire::f)})});
    auto nested = decode(mixed);
    REQUIRE(nested.ok());
    CHECK(nested->get<Map>("m") == Map{{"a", nullptr}, {"b", false}, {"c", nullptr}, {"d", true}});
}

TEST_CASE("a repeated key is found where it repeats, in order or not") {
    const Bytes a = wire::cat({wire::str("a"), wire::byte(wire::null)});
    const Bytes b = wire::cat({wire::str("b"), wire::byte(wire::null)});
    const Bytes c = wire::cat({wire::str("c"), wire::byte(wire::null)});
    // The offset is just past the repeated key: header (2) + 3 bytes per entry before it + 2.
    for (const Bytes& bytes : {wire::packet(2, {a, a}), wire::packet(3, {a, c, a}), wire::packet(3, {c, a, c}),
                               wire::packet(4, {b, a, c, b}), wire::packet(4, {c, b, a, a})}) {
        auto result = decode(bytes);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == DecodeErrc::duplicate_key);
        CHECK(result.error().offset == bytes.size() - 1);
        CHECK(result.error().message.find("appears twice") != std::string::npos);
    }
}

TEST_CASE("decode counts the packet's footprint: what a walk of it finds") {
    std::mt19937 rng(77);
    for (int i = 0; i < 300; ++i) {
        const Packet p = random_packet(rng);
        DecodeResult result = decode(encode(p));
        REQUIRE(result.ok());
        const std::size_t counted = result.footprint();
        CHECK(counted == memory_footprint(result.packet()));
        const Packet taken = std::move(result).packet();
        CHECK(result.footprint() == counted);  // NOLINT(bugprone-use-after-move): the number stays
        CHECK(memory_footprint(taken) == counted);
    }
    // Keys out of order count the same.
    const Bytes bytes = wire::packet(3, {wire::cat({wire::str("zz"), wire::byte(wire::string), wire::str(std::string(100, 'x'))}),
                                         wire::cat({wire::str("a"), wire::byte(wire::null)}),
                                         wire::cat({wire::str("m"), wire::byte(wire::list), wire::varint(2), wire::byte(wire::null), wire::byte(wire::t)})});
    auto result = decode(bytes);
    REQUIRE(result.ok());
    CHECK(result.footprint() == memory_footprint(result.packet()));
    CHECK(decode(Bytes{0x05}).footprint() == 0);  // no packet, no footprint
}

TEST_CASE("check finds what decode finds without building: ok with the same footprint") {
    // ... and decode_checked, the game thread's decoder of checked bytes, makes the same packet.
    auto agrees = [](const Bytes& bytes) {
        const DecodeResult decoded = decode(bytes);
        const CheckResult checked = check(bytes.data(), bytes.size());
        REQUIRE(decoded.ok());
        REQUIRE(checked.ok());
        CHECK(checked.footprint() == decoded.footprint());
        const Packet fast = detail::decode_checked(bytes.data(), bytes.size());
        CHECK(fast == decoded.packet());
        CHECK(fast.channel() == decoded.packet().channel());
    };
    std::mt19937 rng(78);
    for (int i = 0; i < 300; ++i) {
        const Packet p = random_packet(rng);
        agrees(encode(p));
    }
    // Keys out of order, at the top and in a nested map after some in order; a map bigger than
    // what its bytes could hold reserved (keys of 0 bytes cannot repeat, so at most one).
    agrees(wire::packet(3, {wire::cat({wire::str("zz"), wire::byte(wire::string), wire::str(std::string(100, 'x'))}),
                            wire::cat({wire::str("a"), wire::byte(wire::null)}),
                            wire::cat({wire::str("m"), wire::byte(wire::map), wire::varint(4), wire::str("a"),
                                       wire::byte(wire::null), wire::str("c"), wire::byte(wire::null), wire::str("d"),
                                       wire::byte(wire::t), wire::str("b"), wire::byte(wire::f)})}));
    agrees(wire::packet(1, {wire::cat({wire::str(""), wire::byte(wire::null)})}));
    // A state of 64 maps, and a map of 5,000 keys.
    List players;
    for (int i = 0; i < 64; ++i) players.emplace_back(Map(reference));
    agrees(encode(Packet::on("state", {{"tick", 1}, {"players", players}})));
    Packet big;
    for (int i = 0; i < 5000; ++i) big.set("key" + std::to_string(i), i);
    agrees(encode(big));
    // An error is the one decode gives.
    const Bytes bad = wire::packet(2, {wire::cat({wire::str("a"), wire::byte(wire::null)}), wire::cat({wire::str("a"), wire::byte(wire::null)})});
    const CheckResult checked = check(bad.data(), bad.size());
    REQUIRE_FALSE(checked.ok());
    CHECK(checked.footprint() == 0);
    CHECK(checked.error().code == DecodeErrc::duplicate_key);
    CHECK(checked.error().offset == decode(bad).error().offset);
    CHECK_THROWS_AS((void)check(encode(reference).data(), encode(reference).size()).error(), std::logic_error);
}

TEST_CASE("check's fast pass takes what encode writes, and leaves anything else to check's walk") {
    const std::size_t depth = DecodeLimits{}.max_depth;
    auto fast_agrees = [&](const Bytes& bytes) {
        const std::optional<CheckResult> fast = detail::check_fast(bytes.data(), bytes.size(), depth);
        REQUIRE(fast.has_value());
        const DecodeResult decoded = decode(bytes);
        REQUIRE(decoded.ok());
        CHECK(fast->footprint() == decoded.footprint());
        CHECK(fast->channel() == decoded.packet().channel());
    };
    std::mt19937 rng(79);
    for (int i = 0; i < 300; ++i) {
        const Packet p = random_packet(rng);
        fast_agrees(encode(p));
    }
    fast_agrees(encode(Packet{{"", nullptr}}));
    Value deepest = List{};
    for (std::size_t i = 1; i < depth; ++i) deepest = List{deepest};
    fast_agrees(encode(Packet{{"d", deepest}}));  // at the limit

    // Declined, and check's walk answers as decode does: keys out of order (fine), a repeat, a
    // 10-byte varint (fine), too deep, every cut, a trailing byte, an unknown tag.
    auto declined = [&](const Bytes& bytes) {
        CHECK_FALSE(detail::check_fast(bytes.data(), bytes.size(), depth).has_value());
        const CheckResult checked = check(bytes.data(), bytes.size());
        const DecodeResult decoded = decode(bytes);
        REQUIRE(checked.ok() == decoded.ok());
        if (checked.ok()) CHECK(checked.footprint() == decoded.footprint());
        else CHECK(checked.error().offset == decoded.error().offset);
    };
    declined(wire::packet(2, {wire::cat({wire::str("b"), wire::byte(wire::null)}), wire::cat({wire::str("a"), wire::byte(wire::t)})}));
    declined(wire::packet(2, {wire::cat({wire::str("a"), wire::byte(wire::null)}), wire::cat({wire::str("a"), wire::byte(wire::t)})}));
    declined(wire::packet(1, {wire::cat({wire::str("i"), wire::byte(wire::integer),
                                         Bytes{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}})}));
    declined(encode(Packet{{"d", List{deepest}}}));
    const Bytes good = encode(Packet::on("c", {{"a", List{1, "two", Map{{"x", 3.5}}}}, {"b", Bytes(3, 9)}}));
    for (std::size_t n = 0; n < good.size(); ++n) declined(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
    Bytes trailing = good;
    trailing.push_back(0);
    declined(trailing);
    declined(wire::packet(1, {wire::cat({wire::str("a"), wire::byte(0x7f)})}));
}

TEST_CASE("decode_checked refuses bytes check refuses with a logic_error, reading nothing past their end") {
    const Bytes good = encode(Packet::on("c", {{"a", List{1, "two", Map{{"x", 3.5}}}}, {"b", Bytes(3, 9)}}));
    // Every cut of a good packet is truncated somewhere: a vector of exactly that size, so ASan
    // sees a read past the end.
    for (std::size_t n = 0; n < good.size(); ++n) {
        const Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
        CHECK_THROWS_AS(detail::decode_checked(cut.data(), cut.size()), std::logic_error);
    }
    const Bytes unknown_tag = wire::packet(1, {wire::cat({wire::str("a"), wire::byte(0x7f)})});
    CHECK_THROWS_AS(detail::decode_checked(unknown_tag.data(), unknown_tag.size()), std::logic_error);
    Bytes trailing = good;
    trailing.push_back(0);
    CHECK_THROWS_AS(detail::decode_checked(trailing.data(), trailing.size()), std::logic_error);
    // Nested deeper than check's default limit.
    Value deep = List{};
    for (std::size_t i = 0; i < DecodeLimits{}.max_depth; ++i) deep = List{deep};
    const Bytes too_deep = encode(Packet{{"d", deep}});
    REQUIRE_FALSE(check(too_deep.data(), too_deep.size()).ok());
    CHECK_THROWS_AS(detail::decode_checked(too_deep.data(), too_deep.size()), std::logic_error);
}

TEST_CASE("integers use zigzag varints") {
    CHECK(encode(Packet{{"i", 0}}).size() == 6);                                   // 1 byte payload
    CHECK(encode(Packet{{"i", -64}}).size() == 6);
    CHECK(encode(Packet{{"i", 64}}).size() == 7);
    CHECK(encode(Packet{{"i", INT64_MIN}}).size() == 15);                          // 10 bytes
}

TEST_CASE("random packets round-trip") {
    std::mt19937 rng(12345);
    for (int i = 0; i < 500; ++i) {
        Packet p;
        for (std::size_t k = rng() % 10; k > 0; --k) p.set("k" + std::to_string(rng() % 50), random_value(rng, 0));
        if (rng() % 3 == 0) p.set_channel("ch" + std::to_string(rng() % 3));
        CHECK(round_trip(p) == p);
    }
}

TEST_CASE("DecodeResult: ok or error, and misuse is a logic_error") {
    auto good = decode(encode(Packet{{"a", 1}}));
    CHECK(good.ok());
    CHECK(static_cast<bool>(good));
    CHECK_THROWS_AS(good.error(), std::logic_error);
    auto bad = decode(Bytes{});
    CHECK_FALSE(bad.ok());
    CHECK(bad.error().code == DecodeErrc::truncated);
    CHECK_THROWS_AS(bad.packet(), std::logic_error);
}

TEST_CASE("decode(Bytes&&) hands the buffer to a big bytes value instead of copying it") {
    Bytes level(200 << 10);
    for (std::size_t i = 0; i < level.size(); ++i) level[i] = static_cast<std::uint8_t>(i * 13);
    // Entries on both sides of the big value: the ones after it are read from where they were put aside.
    Packet p{{"a", "before"}, {"data", level}, {"z", Map{{"after", 3}, {"small", Bytes(100, 7)}}}};
    p.set_channel("level");
    Bytes frame(5, 0xee);  // a frame header, then the packet: decoded from offset 5
    encode_to(p, frame);
    const std::uint8_t* first = frame.data();
    const std::size_t size = frame.size();
    DecodeResult result = decode(std::move(frame), {}, 5);
    REQUIRE(result.ok());
    CHECK(result.packet() == p);
    const Bytes& got = *result.packet().find("data")->get_if<Bytes>();
    CHECK(got.data() == first);  // the buffer itself, its bytes moved to its front
    CHECK(got.size() == level.size());
    CHECK(result.footprint() == memory_footprint(result.packet()));
    CHECK(result.footprint() >= size - level.size());

    // Small bytes, or one that is less than half of the buffer, are copied.
    Bytes small_frame = encode(Packet{{"data", Bytes(1000, 1)}});
    const std::uint8_t* small_first = small_frame.data();
    DecodeResult small = decode(std::move(small_frame));
    REQUIRE(small.ok());
    CHECK(small.packet().find("data")->get_if<Bytes>()->data() != small_first);
    CHECK(small.packet().get<Bytes>("data") == Bytes(1000, 1));
}

TEST_CASE("decode(Bytes&&) finds the same errors at the same offsets as decode of a range") {
    Packet p{{"a", "before"}, {"data", Bytes(100 << 10, 9)}, {"obj", Object{Bytes(70 << 10, 3)}}, {"z", 5}};
    const Bytes whole = encode(p);
    // Cut short at points before, inside and after the big values; and a bad byte after them.
    std::vector<Bytes> inputs;
    for (std::size_t cut : {std::size_t{3}, std::size_t{20}, std::size_t{50 << 10}, whole.size() - 200, whole.size() - 1})
        inputs.emplace_back(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut));
    Bytes bad = whole;
    bad.back() = 0xff;  // the last value's tag... or its varint: either way an error after the big ones
    bad.push_back(0x80);
    inputs.push_back(bad);
    Bytes trailing = whole;
    trailing.push_back(0);
    inputs.push_back(trailing);
    for (const Bytes& input : inputs) {
        const DecodeResult by_range = decode(input.data(), input.size());
        DecodeResult owned = decode(Bytes(input));
        REQUIRE(!by_range.ok());
        REQUIRE(!owned.ok());
        CHECK(owned.error().code == by_range.error().code);
        CHECK(owned.error().offset == by_range.error().offset);
        CHECK(owned.error().message == by_range.error().message);
    }
    CHECK_THROWS_AS(decode(Bytes(3, 0), {}, 4), std::out_of_range);
}

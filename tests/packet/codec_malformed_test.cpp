// Decoding hostile bytes: every failure is a typed error with an offset; nothing crashes,
// nothing reads out of bounds (ASan checks), nothing allocates for a size it has not checked.
#include <sprocket/codec.hpp>

#include "wire_builder.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>

using namespace sprocket;

namespace {

const Packet reference{{"id", 17}, {"name", "Player 1"}, {"x", 312.5}, {"y", -48.25},
                       {"angle", 1.25}, {"hp", 100}, {"alive", true}};

// Something of every kind, so that truncation cuts through every kind of field.
const Packet everything = Packet::on("state", {{"n", nullptr}, {"b", true}, {"i", -300}, {"f", 1.5}, {"d", 0.1},
                                               {"s", "text"}, {"y", Bytes{1, 2}}, {"l", List{1, List{2}}},
                                               {"m", Map{{"k", "v"}}}, {"o", Object{Bytes{5, 6}}}});

// `check` finds what `decode` finds: the same error (code, offset, text) or the same footprint.
DecodeResult decode_and_check(const Bytes& bytes, const DecodeLimits& limits = {}) {
    auto result = decode(bytes, limits);
    const CheckResult checked = check(bytes.data(), bytes.size(), limits);
    REQUIRE(checked.ok() == result.ok());
    if (result.ok()) {
        CHECK(checked.footprint() == result.footprint());
    } else {
        CHECK(checked.error().code == result.error().code);
        CHECK(checked.error().offset == result.error().offset);
        CHECK(checked.error().message == result.error().message);
    }
    return result;
}

DecodeErrc error_of(const Bytes& bytes, const DecodeLimits& limits = {}) {
    auto result = decode_and_check(bytes, limits);
    REQUIRE_FALSE_MESSAGE(result.ok(), "decoded unexpectedly: " << result.packet());
    INFO(result.error().message);
    CHECK(result.error().message.rfind(to_string(result.error().code), 0) == 0);  // starts with its name
    CHECK(result.error().offset <= bytes.size());
    return result.error().code;
}

Bytes nested_lists(std::size_t depth) {
    Bytes out = wire::packet(1, {wire::str("d")});
    for (std::size_t i = 0; i < depth; ++i) {
        out.push_back(wire::list);
        out.push_back(1);
    }
    out.push_back(wire::null);
    return out;
}

}  // namespace

TEST_CASE("truncation at every byte offset is an error, never a packet") {
    for (const Packet* p : {&reference, &everything}) {
        const Bytes full = encode(*p);
        for (std::size_t cut = 0; cut < full.size(); ++cut) {
            CAPTURE(cut);
            const Bytes part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
            const DecodeErrc code = error_of(part);
            CHECK((code == DecodeErrc::truncated || code == DecodeErrc::too_large));
        }
    }
}

TEST_CASE("an empty input is truncated") { CHECK(error_of(Bytes{}) == DecodeErrc::truncated); }

TEST_CASE("every size field set to a huge value is rejected before allocating") {
    // Each huge size is far beyond the input; a decoder that allocated first would need GiBs
    // (ASan's allocator would abort on 2^40 and beyond).
    for (const std::uint64_t huge : {std::uint64_t{1} << 31, std::uint64_t{1} << 33, std::uint64_t{1} << 40,
                                     std::uint64_t{1} << 62, ~std::uint64_t{0}}) {
        CAPTURE(huge);
        const Bytes h = wire::varint(huge);
        const Bytes tail(16, 0);
        SUBCASE("channel size") { CHECK(error_of(wire::cat({h, tail})) == DecodeErrc::too_large); }
        SUBCASE("map entry count") { CHECK(error_of(wire::cat({wire::str(""), h, tail})) == DecodeErrc::too_large); }
        SUBCASE("key size") {
            CHECK(error_of(wire::packet(1, {wire::cat({h, tail})})) == DecodeErrc::too_large);
        }
        for (const std::uint8_t tag : {wire::string, wire::bytes, wire::list, wire::map, wire::object}) {
            CAPTURE(int(tag));
            CHECK(error_of(wire::packet(1, {wire::cat({wire::str("k"), wire::byte(tag), h, tail})})) ==
                  DecodeErrc::too_large);
        }
    }
}

TEST_CASE("a size that fits the input but not what the enclosing list still needs is too large") {
    // An outer list of 3 claims 3 bytes; its first element, a list, claims all remaining bytes.
    const Bytes bytes = wire::packet(1, {wire::cat({wire::str("k"), wire::byte(wire::list), wire::varint(3),
                                                    wire::byte(wire::list), wire::varint(6),
                                                    Bytes(6, wire::null)})});
    CHECK(error_of(bytes) == DecodeErrc::too_large);
}

TEST_CASE("unknown type tags are rejected with their offset") {
    for (int tag = 0x0b; tag <= 0xff; ++tag) {
        CAPTURE(tag);
        const Bytes bytes = wire::packet(1, {wire::cat({wire::str("k"), wire::byte(static_cast<std::uint8_t>(tag))})});
        auto result = decode(bytes);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code == DecodeErrc::bad_type_tag);
        CHECK(result.error().offset == bytes.size() - 1);
    }
}

TEST_CASE("depth bombs are too deep, however deep") {
    CHECK(decode(nested_lists(32)).ok());
    CHECK(error_of(nested_lists(33)) == DecodeErrc::too_deep);
    CHECK(error_of(nested_lists(100000)) == DecodeErrc::too_deep);  // no stack overflow
    DecodeLimits shallow;
    shallow.max_depth = 2;
    CHECK(decode(nested_lists(2), shallow).ok());
    CHECK(error_of(nested_lists(3), shallow) == DecodeErrc::too_deep);

    auto nested_maps = [](int depth) {
        Bytes maps = wire::packet(1, {wire::str("d")});
        for (int i = 0; i < depth; ++i) {
            maps.push_back(wire::map);
            maps.push_back(1);
            maps.push_back(1);
            maps.push_back('k');
        }
        maps.push_back(wire::null);
        return maps;
    };
    CHECK(decode(nested_maps(32)).ok());
    CHECK(error_of(nested_maps(33)) == DecodeErrc::too_deep);
    CHECK(error_of(nested_maps(100000)) == DecodeErrc::too_deep);
}

TEST_CASE("trailing garbage is rejected") {
    Bytes bytes = encode(reference);
    bytes.push_back(0);
    auto result = decode(bytes);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == DecodeErrc::trailing_bytes);
    CHECK(result.error().offset == bytes.size() - 1);
    CHECK(result.error().message == "trailing bytes: 1 byte after the packet (at byte 60)");
}

TEST_CASE("bad varints: too long, or overflowing 64 bits") {
    const Bytes eleven(11, 0x80);
    CHECK(error_of(wire::cat({wire::str(""), eleven})) == DecodeErrc::bad_varint);
    const Bytes overflow{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    CHECK(error_of(wire::packet(1, {wire::cat({wire::str("k"), wire::byte(wire::integer), overflow})})) ==
          DecodeErrc::bad_varint);
}

TEST_CASE("duplicate keys are rejected, adjacent or not") {
    const Bytes entry_a = wire::cat({wire::str("a"), wire::byte(wire::null)});
    const Bytes entry_b = wire::cat({wire::str("b"), wire::byte(wire::null)});
    CHECK(error_of(wire::packet(2, {entry_a, entry_a})) == DecodeErrc::duplicate_key);
    CHECK(error_of(wire::packet(3, {entry_a, entry_b, entry_a})) == DecodeErrc::duplicate_key);
}

TEST_CASE("a duplicate key from the wire is quoted, escaped and shortened in the message") {
    const std::string key = "\x01" + std::string(100, 'k');
    const Bytes entry = wire::cat({wire::str(key), wire::byte(wire::null)});
    auto result = decode(wire::packet(2, {entry, entry}));
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().message.rfind("duplicate key: key \"\\u0001kkk", 0) == 0);
    CHECK(result.error().message.find("\"... appears twice") != std::string::npos);
}

TEST_CASE("error messages say what, how much, and where") {
    const Bytes bytes = wire::packet(1, {wire::cat({wire::str("k"), wire::byte(wire::string),
                                                    wire::varint(std::uint64_t{1} << 33), wire::str("ab")})});
    auto result = decode(bytes);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().message == "too large: string size 8589934592 exceeds the 3 bytes that remain (at byte 10)");
}

TEST_CASE("random corruption of valid packets never crashes, and check agrees with decode") {
    std::mt19937 rng(99);
    const Bytes base = encode(everything);
    int decoded = 0;
    for (int i = 0; i < 20000; ++i) {
        Bytes bytes = base;
        for (std::size_t flips = 1 + rng() % 4; flips > 0; --flips)
            bytes[rng() % bytes.size()] = static_cast<std::uint8_t>(rng());
        if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
        auto result = decode_and_check(bytes);
        if (result.ok()) {
            ++decoded;
            // Whatever decodes re-encodes and decodes to the same packet.
            auto again = decode(encode(result.packet()));
            REQUIRE(again.ok());
            CHECK(again.packet() == result.packet());
        }
    }
    MESSAGE(decoded << " of 20000 corrupted inputs still decoded");
}

TEST_CASE("random bytes never crash, and check agrees with decode") {
    std::mt19937 rng(7);
    for (int i = 0; i < 20000; ++i) {
        Bytes bytes(rng() % 64);
        for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
        (void)decode_and_check(bytes);
    }
}

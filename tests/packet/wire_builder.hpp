#pragma once
// Builds packet bytes by hand, for tests that need exact or deliberately wrong encodings.
#include <sprocket/value.hpp>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string_view>

namespace wire {

using sprocket::Bytes;

inline Bytes varint(std::uint64_t v) {
    Bytes out;
    while (v >= 0x80) {
        out.push_back(static_cast<std::uint8_t>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(v));
    return out;
}

inline Bytes str(std::string_view s) {
    Bytes out = varint(s.size());
    out.insert(out.end(), s.begin(), s.end());
    return out;
}

inline Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

inline Bytes byte(std::uint8_t b) { return Bytes{b}; }

// Tags (docs/PROTOCOL.md).
inline constexpr std::uint8_t null = 0x00, f = 0x01, t = 0x02, integer = 0x03, real32 = 0x04, real64 = 0x05,
                              string = 0x06, bytes = 0x07, list = 0x08, map = 0x09, object = 0x0a;

/// A packet with no channel and the given number of entries, followed by `entries`.
inline Bytes packet(std::uint64_t count, std::initializer_list<Bytes> entries) {
    Bytes out = cat({str(""), varint(count)});
    for (const Bytes& e : entries) out.insert(out.end(), e.begin(), e.end());
    return out;
}

}  // namespace wire

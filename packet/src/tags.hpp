#pragma once
// Inside packet/: the value encoding's tag bytes (docs/PROTOCOL.md, "Values"), shared by the
// codec's reader and writer and by decode_checked.
#include <cstddef>
#include <cstdint>

namespace sprocket::detail {

enum Tag : std::uint8_t {
    tag_null = 0x00,
    tag_false = 0x01,
    tag_true = 0x02,
    tag_int = 0x03,     // zigzag varint
    tag_real32 = 0x04,  // float, 4 bytes LE
    tag_real64 = 0x05,  // double, 8 bytes LE
    tag_string = 0x06,  // varint size, bytes
    tag_bytes = 0x07,   // varint size, bytes
    tag_list = 0x08,    // varint count, values
    tag_map = 0x09,     // varint count, (varint key size, key bytes, value)*
    tag_object = 0x0a,  // varint size, cereal bytes
};

}  // namespace sprocket::detail

#pragma once
// Packets as JSON lines, for sprocket-cat. One JSON object per packet:
//   {"x": 1, "name": "Ada", "pos": [1.5, 2], "nested": {"a": null}}
// with three reserved spellings:
//   "$channel": "chat"              the packet's channel (top level only)
//   {"$bytes": "<base64>"}          a bytes value
//   {"$object": "<base64>"}         a cereal object value (its blob, as sent)
// Integers stay integers (64-bit), other numbers are reals; nesting is limited like the codec's.
#include <sprocket/packet.hpp>

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace sprocket::cat {

/// Why a JSON line is not a packet: "line 3: not an object", "bad base64 in $bytes", ...
struct JsonError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Parses one line. Throws JsonError for malformed JSON or a value with no Packet equivalent.
Packet packet_from_json(std::string_view line);
/// One line of JSON (no newline); invalid UTF-8 in strings is replaced, never an error.
std::string packet_to_json(const Packet& packet);

std::string base64_encode(const Bytes& bytes);
/// Throws JsonError on characters outside the alphabet or a bad length.
Bytes base64_decode(std::string_view text);

}  // namespace sprocket::cat

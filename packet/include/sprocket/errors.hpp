#pragma once
/// \file
/// The errors of the packet layer: typed-access errors (exceptions, for programming mistakes
/// such as asking for the wrong type) and decode errors (values, for bad input from the wire).

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <stdexcept>
#include <string>

namespace sprocket {

/// Base of the exceptions thrown by typed access (`Packet::get<T>`, `Value::as<T>`, `Map::at`).
/// The message says what was asked and what was found, e.g.
/// `[sprocket.packet] key "x": asked for int32, but holds string`.
class AccessError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Thrown when a key is missing: `[sprocket.packet] key "hp" not found (asked for int32)`.
class KeyError : public AccessError {
public:
    using AccessError::AccessError;
};

/// Thrown when a value does not hold the type asked for, or cannot be converted to it without
/// losing something (e.g. 300 read as `uint8_t`, 2.5 read as `int`).
class TypeError : public AccessError {
public:
    using AccessError::AccessError;
};

/// What went wrong while decoding bytes that came from the network.
enum class DecodeErrc : std::uint8_t {
    truncated,       ///< the input ends inside a value
    too_large,       ///< a size or count claims more than the bytes that remain, or a limit
    bad_type_tag,    ///< a value starts with a tag byte this version does not know
    too_deep,        ///< lists or maps (or an object's fields) nested deeper than the limit
    trailing_bytes,  ///< bytes are left after the packet ends
    bad_varint,      ///< an integer or size is longer than 10 bytes or overflows 64 bits
    bad_value,       ///< an object field that cannot be (a bool byte other than 0 or 1, an
                     ///< integer out of its type's range); only when reading objects back
    duplicate_key,   ///< the same key twice in one map
};

/// The short name of a decode error: "truncated", "too large", "bad type tag", ...
const char* to_string(DecodeErrc code) noexcept;
std::ostream& operator<<(std::ostream& os, DecodeErrc code);

/// A decode failure: what, where (byte offset in the input) and a readable message such as
/// `too large: string size 8589934592 exceeds the 3 bytes that remain (at byte 12)`.
struct DecodeError {
    DecodeErrc code = DecodeErrc::truncated;
    std::size_t offset = 0;  ///< byte offset in the input where the problem was found
    std::string message;     ///< full readable text, starting with to_string(code)
};

std::ostream& operator<<(std::ostream& os, const DecodeError& error);

}  // namespace sprocket

/// \code
/// try {
///     int hp = packet.get<int>("hp");
/// } catch (const sprocket::AccessError& e) {   // KeyError or TypeError
///     std::cerr << e.what() << '\n';          // [sprocket.packet] key "hp" not found (asked for int32)
/// }
/// auto result = sprocket::decode(bytes);
/// if (!result && result.error().code == sprocket::DecodeErrc::too_large) { ... }
/// \endcode

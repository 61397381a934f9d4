#include <sprocket/errors.hpp>

#include <ostream>

namespace sprocket {

const char* to_string(DecodeErrc code) noexcept {
    switch (code) {
        case DecodeErrc::truncated: return "truncated";
        case DecodeErrc::too_large: return "too large";
        case DecodeErrc::bad_type_tag: return "bad type tag";
        case DecodeErrc::too_deep: return "too deep";
        case DecodeErrc::trailing_bytes: return "trailing bytes";
        case DecodeErrc::bad_varint: return "bad varint";
        case DecodeErrc::bad_value: return "bad value";
        case DecodeErrc::duplicate_key: return "duplicate key";
    }
    return "unknown decode error";
}

std::ostream& operator<<(std::ostream& os, DecodeErrc code) { return os << to_string(code); }

std::ostream& operator<<(std::ostream& os, const DecodeError& error) { return os << error.message; }

}  // namespace sprocket

#include <sprocket/archive.hpp>

#include <utility>

namespace sprocket {

DecodeException::DecodeException(DecodeError error)
    : cereal::Exception(error.message), error_(std::move(error)) {}

void ByteInputArchive::fail_at(std::size_t at, DecodeErrc code, const std::string& detail) const {
    throw DecodeException(DecodeError{
        code, at, std::string(to_string(code)) + ": " + detail + " (at byte " + std::to_string(at) + ")"});
}

std::size_t ByteInputArchive::read_size(const char* what, std::size_t min_bytes) {
    const std::uint64_t n = read_varint();
    const std::size_t left = remaining();
    const std::size_t available = left > committed_ ? left - committed_ : 0;
    if (min_bytes == 0) min_bytes = 1;
    if (n > available / min_bytes) {
        std::string text = std::string(what) + " " + std::to_string(n) + " exceeds the " +
                           std::to_string(available) + " bytes that remain";
        if (available != left) text += " for it";
        fail(DecodeErrc::too_large, text);
    }
    return static_cast<std::size_t>(n);
}

}  // namespace sprocket

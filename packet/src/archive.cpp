#include <sprocket/archive.hpp>

#include <utility>

namespace sprocket {

DecodeException::DecodeException(DecodeError error)
    : cereal::Exception(error.message), error_(std::move(error)) {}

void ByteInputArchive::fail_at(std::size_t at, DecodeErrc code, const std::string& detail) const {
    throw DecodeException(DecodeError{
        code, at, std::string(to_string(code)) + ": " + detail + " (at byte " + std::to_string(at) + ")"});
}

void ByteInputArchive::fail_need(std::size_t size) const {
    fail(DecodeErrc::truncated,
         "needs " + std::to_string(size) + " bytes but " + std::to_string(remaining()) + " remain");
}

void ByteInputArchive::fail_size(const char* what, std::uint64_t n, std::size_t available) const {
    std::string text = std::string(what) + " " + std::to_string(n) + " exceeds the " + std::to_string(available) +
                       " bytes that remain";
    if (available != remaining()) text += " for it";
    fail(DecodeErrc::too_large, text);
}

}  // namespace sprocket

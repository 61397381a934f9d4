#include <sprocket/archive.hpp>

#include <stdexcept>
#include <utility>

namespace sprocket {

DecodeException::DecodeException(DecodeError error)
    : cereal::Exception(error.message), error_(std::move(error)) {}

ByteInputArchive::ByteInputArchive(std::vector<std::uint8_t>&& bytes, std::size_t offset, std::size_t max_depth)
    : ByteInputArchive(nullptr, 0, max_depth) {
    if (offset > bytes.size()) throw std::out_of_range("[sprocket.archive] offset past the end of the bytes");
    owned_ = std::move(bytes);
    begin_ = pos_ = owned_.data() + offset;
    end_ = owned_.data() + owned_.size();
}

std::vector<std::uint8_t> ByteInputArchive::take_bytes(std::size_t size) {
    need(size);
    const std::uint8_t* p = pos_;
    if (size < adopt_min || owned_.empty() || size < owned_.size() / 2) {
        pos_ += size;
        return std::vector<std::uint8_t>(p, p + size);
    }
    // Hand the buffer over: what follows goes aside first (the move below may overwrite it).
    const std::size_t consumed = offset() + size;
    rest_.assign(p + size, end_);
    std::memmove(owned_.data(), p, size);
    owned_.resize(size);
    std::vector<std::uint8_t> out = std::move(owned_);
    owned_ = std::vector<std::uint8_t>();
    moved_ = consumed;
    begin_ = pos_ = rest_.data();
    end_ = rest_.data() + rest_.size();
    return out;
}

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

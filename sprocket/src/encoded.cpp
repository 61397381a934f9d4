#include <sprocket/detail/block_pool.hpp>
#include <sprocket/detail/encoded.hpp>

#include <cstring>
#include <utility>

namespace sprocket::detail {

Encoded::Encoded(const std::uint8_t* data, std::size_t size)
    : block_(static_cast<std::uint8_t*>(allocate_block(size)), Free{size}), data_(block_.get()), size_(size) {
    if (size != 0) std::memcpy(block_.get(), data, size);
}

Encoded::Encoded(Bytes bytes, std::size_t offset) noexcept
    : adopted_(std::move(bytes)), data_(adopted_.data() + offset), size_(adopted_.size() - offset) {}

DecodeResult Encoded::decode() && {
    if (adopted_.empty()) {
        DecodeResult result = sprocket::decode(data_, size_);
        *this = Encoded();
        return result;
    }
    const auto offset = static_cast<std::size_t>(data_ - adopted_.data());
    data_ = nullptr;
    size_ = 0;
    return sprocket::decode(std::move(adopted_), {}, offset);
}

void Encoded::Free::operator()(std::uint8_t* block) const noexcept { deallocate_block(block, bytes); }

}  // namespace sprocket::detail

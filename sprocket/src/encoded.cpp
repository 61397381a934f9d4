#include <sprocket/detail/block_pool.hpp>
#include <sprocket/detail/encoded.hpp>

#include <cstring>
#include <stdexcept>
#include <utility>

namespace sprocket::detail {

Encoded::Encoded(const std::uint8_t* data, std::size_t size)
    : block_(static_cast<std::uint8_t*>(allocate_block(size)), Free{size}), data_(block_.get()), size_(size) {
    if (size != 0) std::memcpy(block_.get(), data, size);
}

Encoded::Encoded(Bytes bytes, std::size_t offset) noexcept
    : adopted_(std::move(bytes)), data_(adopted_.data() + offset), size_(adopted_.size() - offset) {}

Packet Encoded::decode() && {
    if (adopted_.empty()) {
        Packet packet = detail::decode_checked(data_, size_);
        *this = Encoded();
        return packet;
    }
    const auto offset = static_cast<std::size_t>(data_ - adopted_.data());
    data_ = nullptr;
    size_ = 0;
    DecodeResult result = sprocket::decode(std::move(adopted_), {}, offset);
    // check() accepted these bytes on the I/O thread, and decode finds what check finds.
    if (!result) throw std::logic_error("sprocket: a checked packet did not decode: " + result.error().message);
    return std::move(result).packet();
}

void Encoded::Free::operator()(std::uint8_t* block) const noexcept { deallocate_block(block, bytes); }

}  // namespace sprocket::detail

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

Encoded Encoded::view(const std::uint8_t* data, std::size_t size) noexcept {
    Encoded e;
    e.data_ = data;
    e.size_ = size;
    return e;
}

void Encoded::keep(Bytes& arena) {
    if (block_ || !adopted_.empty() || in_arena_ || size_ == 0) return;  // not a view
    if (size_ > arena_max) {
        *this = Encoded(data_, size_);
        return;
    }
    offset_ = arena.size();
    arena.insert(arena.end(), data_, data_ + size_);
    data_ = nullptr;
    in_arena_ = true;
}

Packet Encoded::decode(const Bytes& arena) && {
    if (!in_arena_) return std::move(*this).decode();
    Packet packet = detail::decode_checked(arena.data() + offset_, size_);
    *this = Encoded();
    return packet;
}

Packet Encoded::decode() && {
    if (in_arena_) throw std::logic_error("sprocket: a packet kept in an arena decoded without it");
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

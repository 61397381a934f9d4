#pragma once
/// \file
/// A packet's bytes as they arrived, checked (`sprocket::check`) on the I/O thread and waiting
/// in an inbox to be decoded by the thread that takes them. Decoding where the packet is used
/// keeps its maps in that thread's cache: measured with 1000 clients in one process, decoding
/// 64-player states on the I/O thread and freeing them on the game's thread cost 1.5x the CPU
/// and made the I/O thread fall seconds behind (docs/PERFORMANCE.md, fan-out). The I/O thread
/// hands a view of its read buffer to the inbox, which copies small packets one after another
/// into one arena per read (no allocation per packet, nothing to give back across threads).

#include <sprocket/codec.hpp>
#include <sprocket/packet.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace sprocket::detail {

class Encoded {
public:
    Encoded() noexcept = default;
    /// A copy of `size` bytes at `data`, in a block recycled like map blocks (block_pool.hpp):
    /// the I/O thread allocates it, the game's thread frees it. Throws std::bad_alloc.
    Encoded(const std::uint8_t* data, std::size_t size);
    /// Takes `bytes` whole; the packet is its part from `offset` on (a reassembled frame: no copy).
    Encoded(Bytes bytes, std::size_t offset) noexcept;
    /// The `size` bytes at `data`, not copied: valid only while they are (the I/O thread's read
    /// buffer while it handles a frame). An inbox keeps a view as a copy (`keep`).
    static Encoded view(const std::uint8_t* data, std::size_t size) noexcept;

    /// Bodies up to this size are kept in an inbox's arena (`keep`), bigger ones in a block each.
    static constexpr std::size_t arena_max = 4096;  // bytes
    /// Makes a view a copy of its own: appended to `arena` (its place there is remembered, as
    /// an offset: `arena` may move) when it is at most `arena_max` bytes, else copied to a
    /// block. Anything else is left as it is. Throws std::bad_alloc (then unchanged).
    void keep(Bytes& arena);
    /// True for bytes kept in an arena: `data()` is then null, and `decode` needs the arena.
    bool in_arena() const noexcept { return in_arena_; }
    /// For bytes in an arena: they are now `by` bytes further in (arenas were joined, or copied).
    void shift(std::ptrdiff_t by) noexcept { offset_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(offset_) + by); }
    std::size_t offset() const noexcept { return offset_; }

    const std::uint8_t* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    /// True for no bytes at all (an event that is not a packet).
    bool empty() const noexcept { return size_ == 0; }
    /// Decodes the checked bytes (`detail::decode_checked`), leaving this empty. An adopted
    /// buffer goes to `sprocket::decode`, so a big bytes value in it becomes that buffer instead
    /// of a copy. Throws std::logic_error if the bytes do not decode (check() accepted them:
    /// a bug), std::bad_alloc when memory runs out.
    Packet decode() &&;
    /// The same for bytes kept in `arena` (`keep`); any other kind ignores `arena`.
    Packet decode(const Bytes& arena) &&;

private:
    struct Free {
        std::size_t bytes;  // no default member initializer: unique_ptr must see Free as default-constructible here
        void operator()(std::uint8_t* block) const noexcept;
    };
    std::unique_ptr<std::uint8_t[], Free> block_;
    Bytes adopted_;
    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t offset_ = 0;  // in an arena
    bool in_arena_ = false;
};

}  // namespace sprocket::detail

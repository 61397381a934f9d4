#pragma once
/// \file
/// Frames: how packets and control messages travel on a TCP stream.
///
/// A frame is a 5-byte header — the body length as a little-endian uint32, then a kind byte —
/// followed by the body. `FrameDecoder` accepts bytes in chunks of any size and yields whole
/// frames; a header announcing a body larger than its limit is rejected as soon as the header
/// is complete, before any of the body is buffered. See docs/PROTOCOL.md.

#include <sprocket/errors.hpp>
#include <sprocket/packet.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace sprocket {

/// Bytes before each frame's body: length (uint32 LE) and kind (uint8).
inline constexpr std::size_t frame_header_size = 5;
/// Default largest frame body: 16 MiB. Configurable per decoder, up to 4 GiB - 1.
inline constexpr std::size_t default_max_frame_size = std::size_t{16} << 20;
/// The largest body the length field can express.
inline constexpr std::size_t max_frame_size_limit = 0xffffffffu;

namespace detail {
/// A std::allocator whose value-less construct leaves the memory as it is: a
/// `std::vector<std::uint8_t, DefaultInitAllocator<std::uint8_t>>` resizes without zero-filling
/// (the frame decoder's buffer is overwritten by received bytes anyway, and untouched pages of
/// it are never made resident).
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
    using std::allocator<T>::allocator;
    template <class U>
    struct rebind {
        using other = DefaultInitAllocator<U>;
    };
    template <class U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
        ::new (static_cast<void*>(p)) U;  // default-initialization: no zeroes for bytes
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};
}  // namespace detail

/// Frame kinds. Kind 1 carries an encoded `Packet`; the others are the control frames of a
/// connection (handshake, heartbeat, goodbye), byte by byte in docs/PROTOCOL.md.
enum class FrameKind : std::uint8_t {
    packet = 0x01,   ///< an encoded Packet
    hello = 0x02,    ///< client -> server, first frame: magic, version, application, password
    welcome = 0x03,  ///< server -> client: accepted, with the client's id
    reject = 0x04,   ///< server -> client: refused, with a reason; the server then closes
    ping = 0x05,     ///< heartbeat, either way: a timestamp to echo
    pong = 0x06,     ///< the answer to a ping: the same timestamp
    goodbye = 0x07,  ///< either way, last frame: why the connection is closing
    fragment = 0x08, ///< a piece of a big frame, so smaller frames can go between its pieces
};

/// A complete frame inside a `FrameDecoder`'s buffer. `body` stays valid until the decoder's
/// next `feed`, `prepare` or `commit`, or a `next` that finds nothing buffered (that one gives
/// the buffer back): take what you need from a frame before asking for the one after it.
struct FrameView {
    std::uint8_t kind = 0;
    const std::uint8_t* body = nullptr;
    std::size_t size = 0;
};

/// Appends one frame (header and body) to `out`.
/// Throws `std::length_error` if `size` exceeds `max_frame_size_limit` (a programming error).
void append_frame(Bytes& out, std::uint8_t kind, const std::uint8_t* body, std::size_t size);
/// Appends only a frame's header, for a body of `size` bytes the caller appends next.
/// Throws `std::length_error` like `append_frame`.
void append_frame_header(Bytes& out, FrameKind kind, std::size_t size);
/// Appends a packet frame, encoding `packet` straight into `out` (no intermediate copy).
/// Many frames appended to one buffer go out in one write.
void append_packet_frame(Bytes& out, const Packet& packet);
/// The same for `Packet(fields)` (the default channel), encoded from the literal as it is,
/// without making the packet: `send({{"x", 1}, {"y", 2}})` takes this way. The literal's
/// values are only read.
void append_packet_frame(Bytes& out, std::initializer_list<Map::Field> fields);

/// A string or bytes value's bytes that `append_packet_frame` left out of `out` (below): they
/// belong at offset `at` of `out`, and are still where the packet's value keeps them.
struct Borrowed {
    std::size_t at = 0;
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;
};
/// Appends a packet frame, but each string, bytes or object value of `borrow_min` bytes or more
/// is not copied: its place is recorded in `borrowed` (the frame's header counts it). The
/// frame is only whole with those bytes put back, so the packet's values must stay alive and
/// unchanged until it is sent (moving the Map that holds them is fine: its storage moves along).
/// Throws like the other overload; `out` and `borrowed` are then as they were.
void append_packet_frame(Bytes& out, const Packet& packet, std::vector<Borrowed>& borrowed, std::size_t borrow_min);

/// What `FrameDecoder::next` found.
enum class FrameStatus : std::uint8_t {
    ready,       ///< a frame was returned
    incomplete,  ///< more bytes are needed
    error,       ///< the stream is invalid (see `error()`); the decoder stays in this state
};

/// Splits a byte stream into frames. Feed it bytes as they arrive; take frames with `next`.
/// Memory is bounded by the largest frame allowed plus what was fed and not yet taken.
class FrameDecoder {
public:
    explicit FrameDecoder(std::size_t max_frame_size = default_max_frame_size);

    /// Copies `size` received bytes in.
    void feed(const void* data, std::size_t size);
    /// Room for up to `size` bytes, to receive into directly; then call `commit(n)` with the
    /// number of bytes actually received. `commit` throws `std::logic_error` if n exceeds the
    /// room prepared (a programming error).
    std::uint8_t* prepare(std::size_t size);
    void commit(std::size_t size);

    /// The next complete frame into `frame`. Called with nothing buffered (every frame taken),
    /// it frees the buffer, so an idle connection holds none: the next `prepare` allocates
    /// again (not zero-filled, and cheap next to a read). On `error`, `error()` says why, e.g.
    /// `too large: frame of 4294967295 bytes exceeds the limit of 16777216 (at byte 0)`.
    FrameStatus next(FrameView& frame);
    /// The frame in progress when its header is buffered but not all of its body: `frame` gets
    /// its kind and the body bytes buffered so far (`frame.body`, `frame.size` of them, valid as
    /// for `next`), and the return value is how many body bytes are still to come. Returns 0
    /// and leaves `frame` alone when there is no such frame (less than a header buffered, a
    /// complete frame first in line, a header over the limit, or `failed()`).
    /// For a receiver that reads a big body straight where it belongs: see `skip_partial`.
    std::size_t partial(FrameView& frame) const noexcept;
    /// Takes the frame `partial` describes out of the stream: its buffered bytes count as
    /// consumed, and its remaining body bytes are the caller's to receive elsewhere, so the
    /// next bytes fed or committed must be the ones after that frame. The body `partial`
    /// returned stays valid until the next `prepare` or `feed`.
    /// Throws `std::logic_error` when `partial` would return 0 (a programming error).
    void skip_partial();

    /// Why the stream was rejected. Meaningful after `next` returned `error`.
    const DecodeError& error() const noexcept { return error_; }
    bool failed() const noexcept { return failed_; }

    /// Bytes fed and not yet returned as frames.
    std::size_t buffered() const noexcept { return end_ - begin_; }
    /// Bytes still missing to complete the frame in progress (at least 1 when nothing is
    /// buffered), up to the frame limit: cap it at what you will buffer per read before passing
    /// it to `prepare`, so a peer announcing a big frame costs memory only as bytes arrive.
    /// 0 once the stream is known to be bad (failed, or a header announces more than the limit).
    std::size_t needed() const noexcept;
    /// Bytes of memory the decoder holds. Reads of up to 64 KiB are held as they come; once a
    /// header announces a bigger frame, the buffer grows once, to that whole frame plus room
    /// for one more read of at most 64 KiB (so the read that completes it needs no second
    /// allocation), not by doubling. It shrinks back once a big frame has been taken, and is
    /// 0 once `next` found nothing buffered.
    std::size_t capacity() const noexcept { return buffer_.size(); }
    /// Total bytes consumed so far (offsets in errors count from the stream's start).
    std::size_t consumed() const noexcept { return consumed_; }
    std::size_t max_frame_size() const noexcept { return max_frame_size_; }

private:
    static constexpr std::size_t release_threshold = std::size_t{256} << 10;  // bytes
    static constexpr std::size_t read_slack = std::size_t{64} << 10;          // bytes

    void grow(std::size_t size);

    std::vector<std::uint8_t, detail::DefaultInitAllocator<std::uint8_t>> buffer_;  // never zero-filled
    std::size_t begin_ = 0;  // first unconsumed byte
    std::size_t end_ = 0;    // one past the last byte fed
    std::size_t consumed_ = 0;
    std::size_t max_frame_size_;
    bool failed_ = false;
    DecodeError error_;
};

}  // namespace sprocket

/// \code
/// sprocket::FrameDecoder decoder;
/// decoder.feed(received, n);
/// sprocket::FrameView frame;
/// sprocket::FrameStatus status;
/// while ((status = decoder.next(frame)) == sprocket::FrameStatus::ready) handle(frame);
/// if (status == sprocket::FrameStatus::error) close_connection(decoder.error().message);
/// \endcode

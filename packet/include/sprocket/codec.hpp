#pragma once
/// \file
/// Packet <-> bytes. `encode` cannot fail; `decode` is the trust boundary: it takes bytes from
/// the network and returns either a `Packet` or a `DecodeError`, never crashes, never reads out
/// of bounds, and never allocates for a size before checking it against the bytes that remain.
/// The byte layout is specified in docs/PROTOCOL.md.

#include <sprocket/errors.hpp>
#include <sprocket/packet.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>

namespace sprocket {

/// Limits applied while decoding.
struct DecodeLimits {
    /// Lists and maps nested inside a packet deeper than this are rejected (`too_deep`).
    /// A packet with a list of lists has depth 2. (An object's own nesting is bounded by the
    /// same default when it is read back as a C++ type.)
    std::size_t max_depth = 32;
};

/// A decoded packet, or why there is none.
class DecodeResult {
public:
    DecodeResult(Packet packet) : v_(std::move(packet)) {}      // NOLINT: implicit on purpose
    DecodeResult(DecodeError error) : v_(std::move(error)) {}   // NOLINT: implicit on purpose
    /// A packet and its `memory_footprint`, as `decode` counted it.
    DecodeResult(Packet packet, std::size_t footprint) : v_(std::move(packet)), footprint_(footprint) {}

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    /// The packet. Precondition: `ok()`; otherwise throws `std::logic_error` with the error text.
    Packet& packet() &;
    const Packet& packet() const&;
    Packet&& packet() &&;
    Packet* operator->() { return &packet(); }
    Packet& operator*() { return packet(); }

    /// The error. Precondition: `!ok()`; otherwise throws `std::logic_error`.
    const DecodeError& error() const;

    /// Bytes of memory the decoded packet holds, counted while decoding it: equal to
    /// `memory_footprint(packet())` (packet.hpp) for the packet as `decode` returned it, without
    /// walking it again. Stays valid after the packet is moved out. 0 when `!ok()`, and for a
    /// result made from a packet without a footprint.
    std::size_t footprint() const noexcept { return footprint_; }

private:
    std::variant<Packet, DecodeError> v_;
    std::size_t footprint_ = 0;
};

/// What `check` found: the error `decode` would give, or the footprint its packet would have.
class CheckResult {
public:
    CheckResult(std::size_t footprint, std::string_view channel) : footprint_(footprint), channel_(channel) {}
    explicit CheckResult(DecodeError error) : error_(std::move(error)) {}

    bool ok() const noexcept { return !error_; }
    explicit operator bool() const noexcept { return ok(); }
    /// The error. Precondition: `!ok()`; otherwise throws `std::logic_error`.
    const DecodeError& error() const;
    /// `decode(...).footprint()` of the same bytes; 0 when `!ok()`.
    std::size_t footprint() const noexcept { return footprint_; }
    /// The packet's channel: a view into the checked bytes (valid as long as they are). Empty
    /// when `!ok()`.
    std::string_view channel() const noexcept { return channel_; }

private:
    std::optional<DecodeError> error_;
    std::size_t footprint_ = 0;
    std::string_view channel_;
};

/// The packet's bytes (channel, then entries in key order). Deterministic: equal packets encode
/// to equal bytes. Reals that a float holds exactly take 4 bytes, others 8.
Bytes encode(const Packet& packet);
/// Appends the packet's bytes to `out` (what `out` holds already is kept).
void encode_to(const Packet& packet, Bytes& out);

/// Decodes exactly one packet from `size` bytes at `data`. All of the input must be used
/// (`trailing_bytes` otherwise). Errors: truncated, too large, bad type tag, too deep,
/// trailing bytes, bad varint, bad value, duplicate key; each with the byte offset.
/// Memory: at most 56 bytes per input byte in the worst case (a list of nulls takes
/// sizeof(Value), 40; a map whose many keys arrive out of order about as much), and about the
/// input size for strings and bytes; a lying size allocates nothing. A map takes one
/// allocation. The result's `footprint()` says how much the packet holds.
DecodeResult decode(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits = {});
inline DecodeResult decode(const Bytes& bytes, const DecodeLimits& limits = {}) {
    return decode(bytes.data(), bytes.size(), limits);
}
/// Decodes the bytes of `bytes` from `offset` on, taking the buffer: a bytes value of 64 KiB or
/// more that is half of it or more (a level, a replay in one packet) becomes the buffer itself,
/// its bytes moved to the front, instead of a new allocation and a copy. Otherwise as above;
/// `footprint()` then counts the whole buffer that value holds. The same errors at the same
/// offsets (counted from `offset`). Throws std::out_of_range when `offset` is past the end.
DecodeResult decode(Bytes&& bytes, const DecodeLimits& limits = {}, std::size_t offset = 0);

/// Checks bytes exactly as `decode` does (the same error at the same offset, or the same
/// footprint) without building the packet: a pass over the bytes that allocates nothing for
/// packets whose map keys are in order (as `encode` writes them). Once it is ok, `decode` of
/// the same bytes and limits succeeds unless memory runs out. sprocket's I/O thread checks
/// each packet as it arrives; the game's thread decodes it when it takes it.
CheckResult check(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits = {});

namespace detail {
/// Decodes bytes that `check` with default limits accepted: the packet `decode` makes of them,
/// in about half its time (none of check's work is done again: limits, key repeats, the
/// footprint). The game's thread decodes what the I/O thread checked this way. Bytes check
/// would refuse are never read past their end: they throw std::logic_error (a bug between
/// the two). Throws std::bad_alloc when memory runs out.
Packet decode_checked(const std::uint8_t* data, std::size_t size);
/// check's first pass: what `check(data, size, {max_depth})` returns, for a packet laid out as
/// `encode` writes it (keys in order, varints of at most 9 bytes); nothing for any other bytes,
/// well formed or not, which check then walks again to find the error where decode finds it.
/// Never reads past the end; allocates nothing.
std::optional<CheckResult> check_fast(const std::uint8_t* data, std::size_t size, std::size_t max_depth) noexcept;
}  // namespace detail

}  // namespace sprocket

/// \code
/// sprocket::Bytes wire = sprocket::encode(sprocket::Packet{{"x", 1}});
/// auto result = sprocket::decode(wire);
/// if (!result) std::cerr << result.error() << '\n';   // e.g. "truncated: ... (at byte 3)"
/// else use(result.packet());
/// \endcode

#pragma once
/// \file
/// The control frames of a connection — hello, welcome, reject, ping, pong, goodbye — built and
/// parsed. Parsing never trusts its input: every length is checked against the body's size and
/// a malformed body yields `std::nullopt`. The layouts are in docs/PROTOCOL.md, section 8.

#include <sprocket/event.hpp>
#include <sprocket/frame.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sprocket::detail {

/// The first four bytes of every hello: "SPRK".
inline constexpr std::uint8_t protocol_magic[4] = {'S', 'P', 'R', 'K'};
/// The protocol version this build speaks. Both sides must speak the same one.
inline constexpr std::uint16_t protocol_version = 1;
/// Longest application name, password or reason text on the wire (longer ones are cut).
inline constexpr std::size_t max_short_string = 255;

/// Why a server refused a hello. The byte travels in the reject frame.
enum class RejectCode : std::uint8_t {
    server_full = 1,
    wrong_password = 2,
    version_mismatch = 3,
    wrong_application = 4,
    bad_hello = 5,
};

/// What a peer that does not say its `max_frame_size` in its hello or welcome accepts.
inline constexpr std::uint32_t unsaid_max_frame = std::uint32_t{1} << 20;

struct Hello {
    std::uint16_t version = protocol_version;
    std::string application;
    std::string password;
    /// The largest packet body the client accepts (its `max_frame_size`); 0: not said (not
    /// written; read as `unsaid_max_frame`).
    std::uint32_t max_frame = 0;
};
struct Welcome {
    ClientId client = 0;
    std::uint16_t version = protocol_version;
    /// The largest packet body the server accepts; 0: not said, as in Hello.
    std::uint32_t max_frame = 0;
};
struct Reject {
    RejectCode code = RejectCode::bad_hello;
    std::string text;
};
struct Goodbye {
    CloseReason reason = CloseReason::closed;
    std::string text;
};

// Appending whole frames (header included) to a byte buffer.
void append_hello(Bytes& out, const Hello& hello);
void append_welcome(Bytes& out, const Welcome& welcome);
void append_reject(Bytes& out, const Reject& reject);
void append_ping(Bytes& out, FrameKind kind, std::uint64_t stamp);  ///< kind: ping or pong
void append_goodbye(Bytes& out, const Goodbye& goodbye);

// Parsing frame bodies. A hello whose magic is wrong is `nullopt` too.
std::optional<Hello> parse_hello(const FrameView& frame);
std::optional<Welcome> parse_welcome(const FrameView& frame);
std::optional<Reject> parse_reject(const FrameView& frame);
std::optional<std::uint64_t> parse_ping(const FrameView& frame);
std::optional<Goodbye> parse_goodbye(const FrameView& frame);

/// True when the two secrets are equal, in a time that depends only on their lengths (not on
/// where they first differ), so a password guesser learns nothing from timing.
bool same_secret(std::string_view given, std::string_view expected) noexcept;

/// Wire text made printable: control characters and bytes >= 0x7f become '?'.
std::string printable(std::string text);

}  // namespace sprocket::detail

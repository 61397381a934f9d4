#pragma once
/// \file
/// What a `Sprocket` or a `Servo` reports to the game, in the order it happened: packets and
/// connection events (connected, disconnected, reconnecting, joined, left) with their reasons.

#include <sprocket/packet.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <type_traits>

namespace sprocket {

/// A client's number on a server, given in the server's welcome: 1, 2, 3, ... never 0 (0 means
/// "no client", e.g. a Sprocket that has not been welcomed yet). Ids are not reused while a
/// Servo lives.
using ClientId = std::uint32_t;

/// Milliseconds: every timeout and interval in the options.
using Millis = std::chrono::milliseconds;

namespace detail {
template <class T>
inline constexpr bool is_bare_number =
    std::is_arithmetic_v<T> || std::is_same_v<T, std::nullptr_t>;
template <class T>
inline constexpr bool always_false = false;
/// A bare number given where a timeout or a channel goes (`get(100)`, `get(0)`): a compile
/// error that says what to write. (Without it, `get(0)` would pick the channel overload, as the
/// literal 0 is a null pointer, and crash.)
template <class T>
constexpr void refuse_bare_number() {
    static_assert(always_false<T>,
                  "sprocket: a bare number is neither a timeout nor a channel. To wait, write "
                  "get(100ms), wait(100ms) or get(0ms) (with `using namespace std::chrono_literals;`, "
                  "or sprocket::Millis{100}); for a channel, write get(\"chat\").");
}
}  // namespace detail

/// Why a connection ended (or never started). The numeric values travel in goodbye frames
/// (docs/PROTOCOL.md) and never change.
enum class CloseReason : std::uint8_t {
    none = 0,             ///< still open
    closed = 1,           ///< this side closed it: `close()` or the endpoint was destroyed
    closed_by_peer = 2,   ///< the peer said goodbye, or its socket closed
    timeout = 3,          ///< nothing heard for `timeout`, or the handshake took too long
    rejected = 4,         ///< the server refused the handshake (the detail says why)
    protocol_error = 5,   ///< the peer sent bytes that are not sprocket's protocol
    /// The peer stopped reading and the send queue filled up. A client dropped so by its server
    /// sees it too, from the server's goodbye, once it reads again within the server's `linger`;
    /// if the goodbye could not get into its socket by then, it sees `closed_by_peer`.
    queue_overflow = 6,
    kicked = 7,           ///< the server kicked this client (the detail is the server's reason)
    server_shutdown = 8,  ///< the server is going away
    connect_failed = 9,   ///< could not connect: refused, unreachable, no free descriptor
};

/// "closed", "closed by peer", "timeout", "rejected", "protocol error", "send queue overflow",
/// "kicked", "server shutdown", "connect failed" ("open" for `none`).
const char* to_string(CloseReason reason) noexcept;
std::ostream& operator<<(std::ostream& os, CloseReason reason);

/// What an `Event` is.
enum class EventKind : std::uint8_t {
    packet,        ///< a packet arrived (`Event::packet`; on a Servo, from `Event::client`)
    connected,     ///< Sprocket: the server welcomed us (`Event::client` is our id)
    disconnected,  ///< Sprocket: the connection ended for good: no reconnect follows (`reason`, `detail`)
    /// Sprocket with `reconnect` on: the connection was lost, or an attempt failed, and another
    /// attempt follows (`reason` and `detail` of the loss, e.g. "connection refused";
    /// `attempt` and `retry_in`: which try comes next, and when). Not followed by
    /// `disconnected` unless the attempts run out.
    reconnecting,
    joined,        ///< Servo: `client` completed the handshake
    left,          ///< Servo: `client` is gone (`reason`, `detail`)
    /// Sprocket and Servo: reading from a peer is paused because packets of a channel the
    /// game does not read fill `max_receive_queue` (`detail`: which channel, how many packets
    /// wait; on a Servo, `client` is the peer). Once per pause; reading resumes when they are
    /// taken. Delivered by every read, `get("state")` and `latest` included, ahead of packets.
    stalled,
};
namespace detail {
/// How many kinds there are (tables indexed by kind). A new kind goes last and updates this.
inline constexpr std::size_t event_kind_count = static_cast<std::size_t>(EventKind::stalled) + 1;
}  // namespace detail
const char* to_string(EventKind kind) noexcept;
std::ostream& operator<<(std::ostream& os, EventKind kind);

/// One thing that happened on a connection. Events of one endpoint are delivered in the order
/// they happened: a client's `joined`, then its packets, then its `left`.
struct Event {
    EventKind kind = EventKind::packet;
    /// Servo: the client this is about. Sprocket: our own id (0 before the first welcome).
    ClientId client = 0;
    /// For `EventKind::packet`.
    Packet packet;
    /// For `disconnected` and `left`; for `reconnecting`, why the connection was lost.
    CloseReason reason = CloseReason::none;
    /// Readable details: the peer's goodbye text, the reject reason, the decode error, ...
    std::string detail;
    /// For `reconnecting`: the number of the next attempt (1, 2, ...) and how long until it.
    int attempt = 0;
    Millis retry_in{0};
};

/// `joined client 3`, `left client 3: kicked (cheating)`, `packet from client 2: {...}`, ...
std::ostream& operator<<(std::ostream& os, const Event& event);
std::string to_string(const Event& event);

}  // namespace sprocket

/// \code
/// for (const sprocket::Event& e : server.poll()) {
///     if (e.kind == sprocket::EventKind::left)
///         std::cout << "client " << e.client << " left: " << e.reason << ' ' << e.detail << '\n';
/// }
/// \endcode

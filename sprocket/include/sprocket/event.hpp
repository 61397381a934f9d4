#pragma once
/// \file
/// What a `Sprocket` or a `Servo` reports to the game, in the order it happened: packets and
/// connection events (connected, disconnected, reconnecting, joined, left) with their reasons.

#include <sprocket/packet.hpp>

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace sprocket {

/// A client's number on a server, given in the server's welcome: 1, 2, 3, ... never 0 (0 means
/// "no client", e.g. a Sprocket that has not been welcomed yet). Ids are not reused while a
/// Servo lives.
using ClientId = std::uint32_t;

/// Milliseconds: every timeout and interval in the options.
using Millis = std::chrono::milliseconds;

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
    disconnected,  ///< Sprocket: the connection ended (`reason`, `detail`)
    reconnecting,  ///< Sprocket: trying again after `detail` ("attempt 2 in 500 ms")
    joined,        ///< Servo: `client` completed the handshake
    left,          ///< Servo: `client` is gone (`reason`, `detail`)
};
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

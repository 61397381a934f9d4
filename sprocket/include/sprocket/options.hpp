#pragma once
/// \file
/// The limits and timers every connection has, on both sides. `SprocketOptions` (sprocket.hpp)
/// and `ServoOptions` (servo.hpp) extend these.

#include <sprocket/event.hpp>
#include <sprocket/frame.hpp>
#include <sprocket/simulation.hpp>

#include <cstddef>
#include <string>

namespace sprocket {

/// Connection settings shared by clients and servers. Defaults suit a game on a LAN or the
/// internet; tests shrink the timers.
struct ConnectionOptions {
    /// Both ends must use the same name, or the handshake is rejected ("wrong application").
    std::string application = "sprocket";
    /// Client: the password to present. Server: the password to require ("" = none).
    std::string password;
    /// How often each side sends a heartbeat (it also measures the round-trip time).
    Millis heartbeat_interval{1000};
    /// A peer that sends nothing at all for this long is dropped with `CloseReason::timeout`.
    Millis timeout{5000};
    /// Client: TCP connect plus handshake. Server: a new connection must complete its
    /// handshake within this, or it is dropped.
    Millis handshake_timeout{5000};
    /// After a close, how long queued bytes and the goodbye may take to leave. Past it the
    /// socket is closed anyway. Destroying the last endpoint of a process waits at most this.
    Millis linger{500};
    /// The largest packet accepted from the peer (its encoded size); a bigger one closes the
    /// connection with `protocol_error`. Each side says its own in the handshake, and `send`
    /// refuses a packet bigger than what the peer accepts (std::length_error; before a
    /// client's welcome, 1 MiB: a server's default). Defaults: a server accepts 1 MiB from a
    /// client (anyone can connect: with `max_clients` + `max_pending` connections that is what
    /// a server may hold in partly read packets); a client accepts 256 MiB from the server it
    /// chose (a map download). Raise a server's for uploads, and its `max_send_queue` with it.
    std::size_t max_frame_size = std::size_t{1} << 20;  // bytes
    /// Bytes queued for the peer and not yet taken by the kernel. Past it the connection is
    /// closed with `CloseReason::queue_overflow` ("send queue overflow") instead of growing.
    /// One packet bigger than this may be queued at a time (a 50 MB map): what of it waits does
    /// not count, so the small packets around it still fit; a second one while it is still
    /// going makes `send` throw std::length_error (the connection stays).
    std::size_t max_send_queue = std::size_t{4} << 20;  // bytes
    /// Memory held by received packets waiting for `get()` (as decoded, not as sent: a list of
    /// a million nulls is 1 MB on the wire and ~56 MB in memory). Past it, reading from that
    /// peer pauses (TCP then slows the peer down) until the game drains its packets. A packet
    /// bigger than this is still taken whole (reading pauses after it). When the game is
    /// slower than its peer, this is also how much one `get()` decodes at once: 512 KiB keeps
    /// those packets in the CPU's cache while the game reads them (with 4 MiB, a game loop that
    /// keeps up with its peer moved a fifth fewer packets; docs/PERFORMANCE.md).
    std::size_t max_receive_queue = std::size_t{512} << 10;  // bytes
    /// A slow, jittery or stalling network to feel the game on (see simulation.hpp). When it
    /// simulates nothing, the environment variable `SPROCKET_SIM` is read instead; a bad
    /// `SPROCKET_SIM` makes the endpoint's constructor throw std::invalid_argument.
    Simulation simulate;
    /// A file to record every packet sent and received, and every join and leave, to, with
    /// timestamps (recording.hpp; docs/RECORDING.md). "" = off, unless the environment
    /// variable SPROCKET_RECORD names a file: then the process's first endpoint records to it
    /// and the Nth (N >= 2) to `FILE.N`. The endpoint's constructor throws std::system_error
    /// when the file cannot be created; a write failure later only stops the recording
    /// (`recording().error`).
    std::string record;
};

}  // namespace sprocket

#pragma once
/// \file
/// `Stats`: what a connection has moved so far and how fast, as a cheap snapshot for overlays
/// and logs.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sprocket {

/// Packets and bytes of one channel. Bytes are frames (header included), without heartbeats.
struct ChannelStats {
    /// The channel (`""` is the default one). `"*"` gathers every channel past the first 32 a
    /// connection saw, so a peer inventing channel names cannot grow this list.
    std::string channel;
    std::uint64_t packets_sent = 0;
    std::uint64_t packets_received = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
};

/// Totals since the endpoint was made (across reconnects), rates over the last second or so,
/// and queue depths now. Taking one is a few atomic loads and a copy of the channel list:
/// cheap enough to call every frame.
struct Stats {
    std::uint64_t packets_sent = 0;      ///< packets accepted by `send()` (refused ones are not counted)
    std::uint64_t packets_received = 0;  ///< packets decoded, whether or not `get()` took them yet
    std::uint64_t bytes_sent = 0;        ///< bytes written to the socket: frames, headers, heartbeats
    std::uint64_t bytes_received = 0;    ///< bytes read from the socket

    std::chrono::microseconds rtt{0};         ///< smoothed round-trip time (1/8 per sample, like TCP); zero until measured
    std::chrono::microseconds rtt_min{0};     ///< the lowest round trip measured on this connection
    std::chrono::microseconds rtt_jitter{0};  ///< mean deviation of the round trips (smoothed 1/4, TCP's RTTVAR)

    /// Rates over the last second or so, measured by the I/O thread (at least once per
    /// `heartbeat_interval` while connected; zero before the first second).
    double packets_sent_per_second = 0;
    double packets_received_per_second = 0;
    double bytes_sent_per_second = 0;
    double bytes_received_per_second = 0;

    std::size_t send_queue = 0;     ///< bytes accepted by `send()` and not yet written (a simulated link's included)
    std::size_t receive_queue = 0;  ///< memory of received packets waiting for `get()` (decoded)
    std::size_t read_buffer = 0;    ///< memory held for a frame being read (a partial frame)
    /// Reading from the peer is paused: received packets hold `max_receive_queue` until the
    /// game takes them (TCP then slows the peer down; nothing is lost).
    bool receive_paused = false;
    /// While paused, once a read of the game left it paused: the channel whose unread packets
    /// hold the queue, and how many wait (an `EventKind::stalled` event said so too). Empty
    /// and 0 otherwise. A game that calls `latest("state")` and never `get("fx")` sees "fx".
    std::string stalled_channel;
    std::size_t stalled_packets = 0;

    /// Per channel, in the order they were first seen.
    std::vector<ChannelStats> channels;
};

}  // namespace sprocket

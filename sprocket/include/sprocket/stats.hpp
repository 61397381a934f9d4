#pragma once
/// \file
/// `Stats`: what a connection has moved so far, as a cheap snapshot for overlays and logs.
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace sprocket {

/// Totals since the endpoint was made (across reconnects), read with a few atomic loads: cheap
/// enough to call every frame. Rates come from two snapshots: `(b.bytes_sent - a.bytes_sent) / dt`.
struct Stats {
    std::uint64_t packets_sent = 0;      ///< packets accepted by `send()` (refused ones are not counted)
    std::uint64_t packets_received = 0;  ///< packets decoded, whether or not `get()` took them yet
    std::uint64_t bytes_sent = 0;        ///< bytes written to the socket: frames, headers, heartbeats
    std::uint64_t bytes_received = 0;    ///< bytes read from the socket
    std::chrono::microseconds rtt{0};    ///< smoothed round-trip time; zero until measured
    std::size_t send_queue = 0;          ///< bytes accepted by `send()` and not yet written
    std::size_t receive_queue = 0;       ///< memory of received packets waiting for `get()` (decoded)
    std::size_t read_buffer = 0;         ///< memory held for a frame being read (a partial frame)
};

}  // namespace sprocket

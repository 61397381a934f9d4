#pragma once
/// \file
/// One direction of a simulated network (`Simulation`): bytes go in as they are sent or read,
/// and come out when a slow, jittery, stalling link would have delivered them, in order.
/// I/O thread only.

#include <sprocket/detail/reactor.hpp>
#include <sprocket/packet.hpp>
#include <sprocket/simulation.hpp>

#include <cstddef>
#include <deque>
#include <random>

namespace sprocket::detail {

class DelayLine {
public:
    /// `origin`: when the stall schedule starts (both directions of a connection share it).
    DelayLine(const Simulation& sim, TimePoint origin, std::uint32_t seed);

    /// Schedules `size` bytes sent or received at `now`.
    void push(TimePoint now, const std::uint8_t* data, std::size_t size);
    /// Appends the bytes due by `now` to `out`, in order; returns how many.
    std::size_t take_due(TimePoint now, Bytes& out);
    /// When the next bytes are due (`no_deadline` when empty).
    TimePoint next_due() const { return chunks_.empty() ? no_deadline : chunks_.front().due; }
    /// When the capped link will have sent everything pushed so far (at or before `now` when it
    /// is idle, and always without a bandwidth cap). Latency, jitter and stalls come on top.
    TimePoint link_free() const { return link_free_; }
    /// Bytes held back now.
    std::size_t bytes() const { return bytes_; }
    bool empty() const { return chunks_.empty(); }
    void clear();

private:
    struct Chunk {
        TimePoint due;
        Bytes bytes;
    };
    TimePoint schedule(TimePoint now, std::size_t size);

    Simulation sim_;
    TimePoint origin_;
    TimePoint link_free_{};  // when the capped link has sent what it holds
    TimePoint last_due_{};   // nothing is due before what went ahead of it
    std::minstd_rand random_;
    std::deque<Chunk> chunks_;
    std::size_t bytes_ = 0;
};

}  // namespace sprocket::detail

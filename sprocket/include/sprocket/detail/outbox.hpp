#pragma once
/// \file
/// A connection's bounded outbound queue: frames appended by any thread, taken by the I/O thread
/// in one piece so they leave in as few system calls as possible.

#include <sprocket/frame.hpp>
#include <sprocket/packet.hpp>

#include <atomic>
#include <cstddef>
#include <mutex>

namespace sprocket::detail {

class Outbox {
public:
    enum class Push : std::uint8_t {
        queued,    ///< the bytes will be sent
        overflow,  ///< over the limit: nothing queued, and the outbox now refuses everything
        closed,    ///< the connection is closed: nothing queued
    };

    /// `limit`: bytes queued and unsent; `max_frame`: the largest packet body the peer accepts.
    Outbox(std::size_t limit, std::size_t max_frame) : limit_(limit), max_frame_(max_frame) {}

    /// Encodes `packet` as a frame at the end of the queue (on the calling thread); `frame`,
    /// if given, gets the frame's size when it was queued.
    /// Throws std::length_error when its body exceeds `max_frame`, or the frame alone exceeds
    /// the limit (it could never be queued); nothing is queued then.
    Push push_packet(const Packet& packet, std::size_t* frame = nullptr);
    /// Appends already-framed bytes (a `sendall` shares one encoding this way).
    Push push_frames(const Bytes& frames);
    /// Appends a control frame built by `build(Bytes&)`, even past the limit (a goodbye must go
    /// out); but once past it the outbox counts as overflowed, so a peer that makes us answer
    /// (pings it never reads the pongs of) cannot grow it without bound. With `front`, the
    /// frame goes before everything queued (a hello ahead of packets sent early).
    template <class Build>
    void push_control(Build&& build, bool front = false) {
        std::lock_guard<std::mutex> lock(mutex_);
        Bytes frame;
        build(frame);
        unsent_ += frame.size();
        if (front) pending_.insert(pending_.begin(), frame.begin(), frame.end());
        else pending_.insert(pending_.end(), frame.begin(), frame.end());
        if (unsent_ > limit_) {
            accepting_ = false;
            overflowed_.store(true);
        }
        has_data_.store(true);
    }

    /// Throws std::length_error unless a frame of `frame` bytes (header included) could ever
    /// be queued: its body within `max_frame`, the frame within `limit`.
    static void check_fits(std::size_t frame, std::size_t max_frame, std::size_t limit);

    /// True when `take` would return bytes. Lock-free, for the I/O thread's loop.
    bool has_data() const { return has_data_.load(); }
    /// True once a push went over the limit.
    bool overflowed() const { return overflowed_.load(); }
    /// Bytes queued and not yet sent, in flight included.
    std::size_t unsent() const;
    std::size_t limit() const { return limit_; }

    /// I/O thread: moves the queued bytes into `out` (which must be empty) by swapping buffers.
    void take(Bytes& out);
    /// I/O thread: `n` bytes taken earlier reached the kernel.
    void sent(std::size_t n);
    /// Keeps what is queued but refuses new pushes (`closed`): the connection is closing.
    void stop_accepting();
    /// Drops everything queued. With `accept`, new pushes are queued (for the next connection
    /// of a reconnecting client); without, they return `closed`.
    void reset(bool accept);

private:
    Push admit(std::size_t adding);  // with mutex_ held

    mutable std::mutex mutex_;
    Bytes pending_;
    std::size_t unsent_ = 0;
    std::size_t limit_;
    std::size_t max_frame_;
    bool accepting_ = true;
    std::atomic<bool> has_data_{false};
    std::atomic<bool> overflowed_{false};
};

}  // namespace sprocket::detail

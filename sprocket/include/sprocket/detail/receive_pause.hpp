#pragma once
/// \file
/// One connection's receive pause. Reading from a peer pauses when its packets waiting for the
/// game fill `max_receive_queue`, and resumes when the game takes them (within a frame when it
/// reads every channel, however long it did not read before: a level load). When the game
/// keeps reading, yet the connection stays paused from its first read after the pause until a
/// read `stall_after` later, the packets holding it belong to a channel the game does not read
/// (it calls `latest("state")` and never `get("fx")`): a stall, told to the game once per
/// pause, with the channel and how many of its packets wait.

#include <sprocket/detail/inbox.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace sprocket::detail {

class ReceivePause {
public:
    /// How long reading stays paused across the game's reads (from the first one after the
    /// pause) before it is a stall.
    static constexpr std::chrono::milliseconds stall_after{250};

    /// I/O thread: stops reading (budget.paused), counted in `inbox` so its takes wake the I/O thread.
    void pause(Inbox& inbox, ReceiveBudget& budget);
    /// I/O thread: reading again (the game took the packets, or the connection closed).
    void resume(Inbox& inbox, ReceiveBudget& budget);
    /// I/O thread, while paused, after a take of the game: the sentence to report, the first
    /// time a take finds the connection still paused `stall_after` after the first take that
    /// did (since the pause); nullopt otherwise.
    std::optional<std::string> stalled(Inbox& inbox, const ReceiveBudget& budget, TimePoint now);

    /// Any thread: the stall told since the pause (`packets` 0 when none).
    Inbox::Waiting waiting() const;
    /// Any thread: its sentence, "" when none.
    std::string text() const;

private:
    bool paused_ = false;          // I/O thread
    bool told_ = false;            // I/O thread
    std::uint64_t takes_at_ = 0;   // the inbox's takes when last looked at; I/O thread
    TimePoint read_since_{};       // the first take that left it paused; I/O thread
    bool read_ = false;            // there was one; I/O thread
    mutable std::mutex mutex_;
    Inbox::Waiting waiting_;       // guarded by mutex_
    std::string text_;             // guarded by mutex_
};

}  // namespace sprocket::detail

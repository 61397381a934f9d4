#pragma once
/// \file
/// One connection's receive pause. Reading from a peer pauses when its packets waiting for the
/// game fill `max_receive_queue`, and resumes when the game takes them (within a frame or two
/// when it reads every channel). When the game keeps reading, yet the connection stays paused
/// for `stall_after`, the packets holding it belong to a channel the game does not read (it
/// calls `latest("state")` and never `get("fx")`): a stall, told to the game once per pause,
/// with the channel and how many of its packets wait.

#include <sprocket/detail/inbox.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace sprocket::detail {

class ReceivePause {
public:
    /// How long reading stays paused across the game's reads before it is a stall.
    static constexpr std::chrono::milliseconds stall_after{250};

    /// I/O thread: stops reading (budget.paused), counted in `inbox` so its takes wake the I/O thread.
    void pause(Inbox& inbox, ReceiveBudget& budget, TimePoint now);
    /// I/O thread: reading again (the game took the packets, or the connection closed).
    void resume(Inbox& inbox, ReceiveBudget& budget);
    /// I/O thread, while paused: the sentence to report, the first time a take of the game
    /// finds the connection paused for `stall_after`; nullopt otherwise.
    std::optional<std::string> stalled(Inbox& inbox, const ReceiveBudget& budget, TimePoint now);

    /// Any thread: the stall told since the pause (`packets` 0 when none).
    Inbox::Waiting waiting() const;
    /// Any thread: its sentence, "" when none.
    std::string text() const;

private:
    bool paused_ = false;          // I/O thread
    bool told_ = false;            // I/O thread
    std::uint64_t takes_at_ = 0;   // the inbox's takes when the pause began; I/O thread
    TimePoint since_{};            // when the pause began; I/O thread
    mutable std::mutex mutex_;
    Inbox::Waiting waiting_;       // guarded by mutex_
    std::string text_;             // guarded by mutex_
};

}  // namespace sprocket::detail

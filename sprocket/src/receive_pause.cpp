#include <sprocket/detail/receive_pause.hpp>

namespace sprocket::detail {

void ReceivePause::pause(Inbox& inbox, ReceiveBudget& budget) {
    budget.paused.store(true);
    if (paused_) return;
    paused_ = true;
    told_ = false;
    read_ = false;
    takes_at_ = inbox.takes();
    inbox.count_paused(+1);
}

void ReceivePause::resume(Inbox& inbox, ReceiveBudget& budget) {
    budget.paused.store(false);
    if (!paused_) return;
    paused_ = false;
    inbox.count_paused(-1);
    if (!told_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    waiting_ = Inbox::Waiting{};
    text_.clear();
}

std::optional<std::string> ReceivePause::stalled(Inbox& inbox, const ReceiveBudget& budget, TimePoint now) {
    if (!paused_ || told_) return std::nullopt;
    const std::uint64_t takes = inbox.takes();
    if (takes == takes_at_) return std::nullopt;  // the game has not read since we looked
    takes_at_ = takes;
    if (!read_) {  // its first read since the pause: it may free us within this frame
        read_ = true;
        read_since_ = now;
        return std::nullopt;
    }
    if (now - read_since_ < stall_after) return std::nullopt;
    told_ = true;
    Inbox::Waiting waiting = inbox.most_waiting(&budget);
    const std::string channel = "\"" + waiting.channel + "\"";
    std::string text = "receive queue full: " + std::to_string(waiting.packets) + " packet(s) (" +
                       std::to_string(waiting.bytes / 1024) + " KiB) on channel " + channel +
                       " wait to be read; reading from this connection is paused until the game takes them (get(" + channel + ") or get())";
    std::lock_guard<std::mutex> lock(mutex_);
    waiting_ = std::move(waiting);
    text_ = text;
    return text;
}

Inbox::Waiting ReceivePause::waiting() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return waiting_;
}

std::string ReceivePause::text() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
}

}  // namespace sprocket::detail

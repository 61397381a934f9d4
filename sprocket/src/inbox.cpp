#include <sprocket/detail/inbox.hpp>

namespace sprocket::detail {

void Inbox::push(Event event, std::size_t bytes, std::shared_ptr<ReceiveBudget> budget, bool quiet) {
    if (budget) budget->queued += bytes;
    bytes_ += bytes;
    bool wake = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        items_.push_back(Item{std::move(event), bytes, std::move(budget)});
        if (quiet) unannounced_ = true;
        else wake = waiters_ > 0;
    }
    if (wake) cv_.notify_all();
}

void Inbox::announce() {
    bool wake = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        wake = unannounced_ && waiters_ > 0;
        unannounced_ = false;
    }
    if (wake) cv_.notify_all();
}

void Inbox::notify() {
    { std::lock_guard<std::mutex> lock(mutex_); }  // a waiter is either asleep or will see the change
    cv_.notify_all();
}

bool Inbox::release(Item& item) {
    bytes_ -= item.bytes;
    if (!item.budget) return false;
    item.budget->queued -= item.bytes;
    return item.budget->paused.load();
}

}  // namespace sprocket::detail

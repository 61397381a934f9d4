#include <sprocket/detail/inbox.hpp>

#include <iterator>

namespace sprocket::detail {

void Inbox::push(Event event, std::size_t bytes, std::shared_ptr<ReceiveBudget> budget, bool quiet) {
    if (budget) budget->queued += bytes;
    bytes_ += bytes;
    if (quiet) {
        staged_.push_back(Item{std::move(event), bytes, std::move(budget)});
        return;
    }
    bool wake = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        publish();  // what was read before this event goes first
        items_.push_back(Item{std::move(event), bytes, std::move(budget)});
        wake = waiters_ > 0;
    }
    if (wake) cv_.notify_all();
}

void Inbox::announce() {
    if (staged_.empty()) return;
    bool wake = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        publish();
        wake = waiters_ > 0;
    }
    if (wake) cv_.notify_all();
}

void Inbox::publish() {
    items_.insert(items_.end(), std::make_move_iterator(staged_.begin()), std::make_move_iterator(staged_.end()));
    staged_.clear();
}

void Inbox::notify() {
    { std::lock_guard<std::mutex> lock(mutex_); }  // a waiter is either asleep or will see the change
    cv_.notify_all();
}

void Inbox::Release::add(const Item& item) {
    if (item.budget.get() != budget_) {
        settle();
        budget_ = item.budget.get();
    }
    run_ += item.bytes;
    total_ += item.bytes;
}

void Inbox::Release::settle() {
    if (budget_ && run_ > 0) {
        budget_->queued -= run_;
        resume_ |= budget_->paused.load();
    }
    run_ = 0;
}

bool Inbox::Release::finish(std::atomic<std::size_t>& total) {
    settle();
    total -= total_;
    return resume_;
}

}  // namespace sprocket::detail

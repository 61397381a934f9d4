#include <sprocket/detail/inbox.hpp>

#include <iterator>

namespace sprocket::detail {

void Inbox::push(Event event, std::size_t bytes, std::shared_ptr<ReceiveBudget> budget, bool quiet) {
    if (budget) budget->queued += bytes;
    bytes_ += bytes;
    if (quiet) {
        staged_events_.push_back(std::move(event));
        staged_charges_.push_back(Charge{bytes, std::move(budget)});
        return;
    }
    bool wake = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        publish();  // what was read before this event goes first
        events_.push_back(std::move(event));
        charges_.push_back(Charge{bytes, std::move(budget)});
        wake = waiters_ > 0;
    }
    if (wake) cv_.notify_all();
}

void Inbox::announce() {
    if (staged_events_.empty()) return;
    bool wake = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        publish();
        wake = waiters_ > 0;
    }
    if (wake) cv_.notify_all();
}

void Inbox::publish() {
    if (events_.empty()) {
        events_.swap(staged_events_);  // the usual case: the game took everything before
        charges_.swap(staged_charges_);
        staged_events_.reserve(events_.size());  // about the next read's worth, in one allocation
        staged_charges_.reserve(events_.size());
    } else {
        events_.insert(events_.end(), std::make_move_iterator(staged_events_.begin()),
                       std::make_move_iterator(staged_events_.end()));
        charges_.insert(charges_.end(), std::make_move_iterator(staged_charges_.begin()),
                        std::make_move_iterator(staged_charges_.end()));
    }
    staged_events_.clear();
    staged_charges_.clear();
}

void Inbox::notify() {
    { std::lock_guard<std::mutex> lock(mutex_); }  // a waiter is either asleep or will see the change
    cv_.notify_all();
}

bool Inbox::release(std::size_t first) {
    bool resume = false;
    std::size_t total = 0;
    auto settle = [&](ReceiveBudget* budget, std::size_t run) {
        if (!budget || run == 0) return;
        budget->queued -= run;
        resume |= budget->paused.load();
    };
    ReceiveBudget* budget = nullptr;
    std::size_t run = 0;
    for (std::size_t i = first; i < charges_.size(); ++i) {
        const Charge& charge = charges_[i];
        if (charge.budget.get() != budget) {
            settle(budget, run);
            budget = charge.budget.get();
            run = 0;
        }
        run += charge.bytes;
        total += charge.bytes;
    }
    settle(budget, run);
    bytes_ -= total;
    charges_.resize(first);
    return resume;
}

}  // namespace sprocket::detail

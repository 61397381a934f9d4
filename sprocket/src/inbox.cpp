#include <sprocket/detail/inbox.hpp>

#include <sprocket/codec.hpp>

#include <algorithm>
#include <iterator>
#include <stdexcept>

namespace sprocket::detail {

void Inbox::push(Event event, std::size_t bytes, std::shared_ptr<ReceiveBudget> budget, bool quiet) {
    if (budget) budget->queued += bytes;
    bytes_ += bytes;
    ReceiveBudget* const raw = budget.get();
    if (quiet) {
        staged_events_.push_back(std::move(event));
        staged_charges_.push_back(Charge{bytes, raw, std::move(budget)});
        staged_bodies_.emplace_back();
        return;
    }
    bool wake = false;
    bool lead = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        publish();  // what was read before this event goes first
        events_.push_back(std::move(event));
        charges_.push_back(Charge{bytes, raw, std::move(budget)});
        bodies_.emplace_back();
        wake = waiters_ > 0;
        lead = leading_ > 0;
    }
    if (wake) cv_.notify_all();
    if (lead) wake_leader();
}

void Inbox::push_packet(Event&& event, Encoded&& body, std::size_t bytes, const std::shared_ptr<ReceiveBudget>& budget) {
    body.keep(staged_arena_);  // a view of the read buffer: copied (first: it may throw)
    if (budget) budget->queued += bytes;
    bytes_ += bytes;
    staged_events_.push_back(std::move(event));
    // Staged charges move together, in order: the run's first one keeps the budget alive.
    const bool run = !staged_charges_.empty() && staged_charges_.back().budget == budget.get();
    staged_charges_.push_back(Charge{bytes, budget.get(), run ? nullptr : budget});
    staged_bodies_.push_back(std::move(body));
}

void Inbox::open(std::vector<Event>& events, std::vector<Encoded>& bodies, const Bytes& arena) {
    for (std::size_t i = 0; i < events.size(); ++i) {
        Encoded& body = bodies[i];
        if (body.empty()) continue;
        events[i].packet = std::move(body).decode(arena);
    }
    bodies.clear();  // freed here, by the thread that decoded them
}

void Inbox::move_to(Encoded& body, Bytes& to) const {
    if (!body.in_arena()) return;
    const std::uint8_t* from = arena_.data() + body.offset();
    const std::size_t at = to.size();
    to.insert(to.end(), from, from + body.size());
    body.shift(static_cast<std::ptrdiff_t>(at) - static_cast<std::ptrdiff_t>(body.offset()));
}

void Inbox::announce() {
    if (staged_events_.empty()) return;
    bool wake = false;
    bool lead = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        publish();
        wake = waiters_ > 0;
        lead = leading_ > 0;
    }
    if (wake) cv_.notify_all();
    if (lead) wake_leader();
}

void Inbox::publish() {
    if (events_.empty()) {
        events_.swap(staged_events_);  // the usual case: the game took everything before
        charges_.swap(staged_charges_);
        bodies_.swap(staged_bodies_);
        arena_.swap(staged_arena_);
        staged_events_.reserve(events_.size());  // about the next read's worth, in one allocation
        staged_charges_.reserve(events_.size());
        staged_bodies_.reserve(events_.size());
        staged_arena_.reserve(arena_.size());
    } else {
        const auto base = static_cast<std::ptrdiff_t>(arena_.size());
        for (Encoded& body : staged_bodies_) {
            if (body.in_arena()) body.shift(base);
        }
        arena_.insert(arena_.end(), staged_arena_.begin(), staged_arena_.end());
        events_.insert(events_.end(), std::make_move_iterator(staged_events_.begin()),
                       std::make_move_iterator(staged_events_.end()));
        charges_.insert(charges_.end(), std::make_move_iterator(staged_charges_.begin()),
                        std::make_move_iterator(staged_charges_.end()));
        bodies_.insert(bodies_.end(), std::make_move_iterator(staged_bodies_.begin()),
                       std::make_move_iterator(staged_bodies_.end()));
    }
    staged_events_.clear();
    staged_charges_.clear();
    staged_bodies_.clear();
    staged_arena_.clear();
}

Inbox::Waiting Inbox::most_waiting(const ReceiveBudget* budget) {
    std::vector<Waiting> channels;
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::size_t i = 0; i < events_.size(); ++i) {
        if (charges_[i].budget != budget || events_[i].kind != EventKind::packet) continue;
        // As in stats: past 32 names (a peer inventing them), the rest count as "*".
        const std::string& seen = events_[i].packet.channel();
        auto named = [&](const std::string& name) {
            return std::find_if(channels.begin(), channels.end(), [&](const Waiting& w) { return w.channel == name; });
        };
        auto it = named(seen);
        if (it == channels.end() && channels.size() >= 32) it = named("*");
        if (it == channels.end()) it = channels.insert(channels.end(), Waiting{channels.size() >= 32 ? "*" : seen, 0, 0});
        ++it->packets;
        it->bytes += charges_[i].bytes;
    }
    const auto most = std::max_element(channels.begin(), channels.end(),
                                       [](const Waiting& a, const Waiting& b) { return a.bytes < b.bytes; });
    return most == channels.end() ? Waiting{} : *most;
}

void Inbox::notify() {
    bool lead = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);  // a waiter is either asleep or will see the change
        lead = leading_ > 0;
    }
    cv_.notify_all();
    if (lead) wake_leader();
}

void Inbox::wake_leader() {
    // A waiter running the loop looks at what it waits for between turns: one on this thread
    // does so next, one on another thread may be asleep in epoll.
    if (!reactor_.leading_here()) reactor_.wake();
}

void Inbox::keep_budgets() {
    // A charge without an owner follows one of the same budget (push_packet): the owner is the
    // nearest one before it.
    const std::shared_ptr<ReceiveBudget>* owner = nullptr;
    for (std::size_t i = 0; i < charges_.size(); ++i) {
        Charge& charge = charges_[i];
        if (charge.owner) owner = &charge.owner;
        else if (charge.budget && !chosen_[i]) charge.owner = *owner;
    }
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
        if (charge.budget != budget) {
            settle(budget, run);
            budget = charge.budget;
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

#pragma once
/// \file
/// An endpoint's inbound queue: events pushed by the I/O thread, taken by the game's thread.
/// Each connection has a receive budget; when its packets waiting here exceed it, the I/O
/// thread stops reading that connection until the game takes them.

#include <sprocket/detail/reactor.hpp>
#include <sprocket/event.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace sprocket::detail {

/// Bytes of one connection's packets waiting in an inbox.
struct ReceiveBudget {
    std::atomic<std::size_t> queued{0};
    std::atomic<bool> paused{false};  ///< set by the I/O thread when it stopped reading
};

class Inbox {
public:
    explicit Inbox(Reactor& reactor) : reactor_(reactor) {}

    /// I/O thread: appends an event; `bytes` is charged to `budget` (may be null) until taken.
    /// The event is visible and waiters are woken at once; with `quiet`, both wait for the next
    /// `announce()` or loud push (one lock and one wake-up for all the packets of one read).
    void push(Event event, std::size_t bytes = 0, std::shared_ptr<ReceiveBudget> budget = nullptr, bool quiet = false);
    /// I/O thread: makes the events pushed quietly since the last call visible, in order, and
    /// wakes waiters, if there were any.
    void announce();

    /// Takes, in order, every event for which `select(event)` is true; the rest stay.
    template <class Select>
    std::vector<Event> take(Select&& select) {
        std::vector<Event> out;
        Release released;
        bool resume = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            out.reserve(items_.size());
            auto keep = items_.begin();
            for (auto it = items_.begin(); it != items_.end(); ++it) {
                if (select(it->event)) {
                    released.add(*it);
                    out.push_back(std::move(it->event));
                } else {
                    if (keep != it) *keep = std::move(*it);
                    ++keep;
                }
            }
            resume = released.finish(bytes_);  // before the items (and maybe their budgets) go
            items_.erase(keep, items_.end());
        }
        if (resume) reactor_.wake();
        return out;
    }

    /// Waits up to `timeout` until `ready(event)` holds for a queued event, or `done()` holds
    /// (checked under the lock after every push). True if an event is ready.
    template <class Ready, class Done>
    bool wait(std::chrono::milliseconds timeout, Ready&& ready, Done&& done) {
        std::unique_lock<std::mutex> lock(mutex_);
        auto found = [&] { return std::any_of(items_.begin(), items_.end(), [&](const Item& i) { return ready(i.event); }); };
        ++waiters_;
        cv_.wait_for(lock, timeout, [&] { return found() || done(); });
        --waiters_;
        return found();
    }

    /// Wakes waiters to re-check their `done` condition (e.g. the connection closed for good).
    void notify();
    /// Memory of the packets waiting to be taken (as charged by `push`). Any thread.
    std::size_t bytes() const { return bytes_.load(); }

private:
    struct Item {
        Event event;
        std::size_t bytes = 0;
        std::shared_ptr<ReceiveBudget> budget;
    };
    // Gives taken items' bytes back to their budgets: one update per run of items of the same
    // budget (usually all of them), not one per packet.
    class Release {
    public:
        void add(const Item& item);
        /// Settles the last run; true when the I/O thread should resume reading a connection.
        bool finish(std::atomic<std::size_t>& total);

    private:
        void settle();
        ReceiveBudget* budget_ = nullptr;
        std::size_t run_ = 0, total_ = 0;
        bool resume_ = false;
    };
    // With mutex_ held: moves the quietly pushed items behind the announced ones.
    void publish();

    Reactor& reactor_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Item> items_;     // guarded by mutex_
    std::vector<Item> staged_;   // quiet pushes not announced yet: the I/O thread's alone
    int waiters_ = 0;            // threads in wait(); guarded by mutex_
    std::atomic<std::size_t> bytes_{0};
};

}  // namespace sprocket::detail

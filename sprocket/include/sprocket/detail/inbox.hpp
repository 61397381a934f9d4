#pragma once
/// \file
/// An endpoint's inbound queue: events pushed by the I/O thread, taken by the game's thread.
/// Packets wait encoded (checked, with only their channel in the event) and are decoded by the
/// thread that takes them. Each connection has a receive budget; when its packets waiting here
/// exceed it (counted as they will be decoded), the I/O thread stops reading that connection
/// until the game takes them.

#include <sprocket/detail/encoded.hpp>
#include <sprocket/detail/reactor.hpp>
#include <sprocket/event.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sprocket::detail {

/// Bytes of one connection's packets waiting in an inbox.
struct ReceiveBudget {
    std::atomic<std::size_t> queued{0};
    std::atomic<bool> paused{false};  ///< set by the I/O thread when it stopped reading
};

/// A `take` selector may look at the whole queue first: `prepare(events)`, under the lock.
template <class T, class = void>
struct has_prepare : std::false_type {};
template <class T>
struct has_prepare<T, std::void_t<decltype(std::declval<T&>().prepare(std::declval<const std::vector<Event>&>()))>>
    : std::true_type {};

class Inbox {
public:
    explicit Inbox(Reactor& reactor) : reactor_(reactor) {}

    /// I/O thread: appends an event; `bytes` is charged to `budget` (may be null) until taken.
    /// The event is visible and waiters are woken at once; with `quiet`, both wait for the next
    /// `announce()` or loud push (one lock and one wake-up for all the packets of one read).
    void push(Event event, std::size_t bytes = 0, std::shared_ptr<ReceiveBudget> budget = nullptr, bool quiet = false);
    /// I/O thread: appends a packet event quietly (as `push(..., true)`): `event.packet` holds
    /// the channel only; `body` (checked) is decoded into it when the event is taken. Of a run
    /// of packets of one budget, the first holds the budget alive for the others (no reference
    /// count touched per packet by both threads).
    void push_packet(Event&& event, Encoded&& body, std::size_t bytes, const std::shared_ptr<ReceiveBudget>& budget);
    /// I/O thread: makes the events pushed quietly since the last call visible, in order, and
    /// wakes waiters, if there were any.
    void announce();

    /// Takes, in order, every event for which `select(event)` is true; the rest stay.
    /// (`select` is called once per event, in order; a packet event shows only its channel.)
    /// The packets taken are decoded on the calling thread. Throws std::bad_alloc if memory runs
    /// out while decoding (those packets are lost).
    template <class Select>
    std::vector<Event> take(Select&& select) {
        std::vector<Event> out;
        std::vector<Encoded> bodies;
        Bytes arena;  // the bytes of the taken bodies kept in an arena
        bool resume = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            chosen_.resize(events_.size());
            if constexpr (has_prepare<std::decay_t<Select>>::value) select.prepare(events_);
            bool all = true;
            for (std::size_t i = 0; i < events_.size(); ++i) {
                const bool taken = select(events_[i]);
                chosen_[i] = taken;
                all = all && taken;
            }
            if (all) {
                out.swap(events_);  // the usual case, get(): no event moves
                bodies.swap(bodies_);
                arena.swap(arena_);
                events_.swap(spare_events_);  // the next read's room: memory used before
                bodies_.swap(spare_bodies_);
                arena_.swap(spare_arena_);
            } else {
                keep_budgets();
                std::size_t keep = 0;
                Bytes kept_arena;  // the arena again, with the kept bodies only
                for (std::size_t i = 0; i < events_.size(); ++i) {
                    if (chosen_[i]) {
                        move_to(bodies_[i], arena);
                        out.push_back(std::move(events_[i]));
                        bodies.push_back(std::move(bodies_[i]));
                    } else {
                        move_to(bodies_[i], kept_arena);
                        if (keep != i) {
                            events_[keep] = std::move(events_[i]);
                            bodies_[keep] = std::move(bodies_[i]);
                            std::swap(charges_[keep], charges_[i]);
                        }
                        ++keep;
                    }
                }
                events_.resize(keep);  // the taken ones' charges now sit from `keep` on
                bodies_.resize(keep);
                arena_.swap(kept_arena);
            }
            resume = release(all ? 0 : events_.size());  // before the charges (and maybe budgets) go
            takes_.fetch_add(1);  // after the release: a paused connection sees what this take freed
        }
        // A paused connection the take did not free is held up by packets the game leaves
        // queued: the I/O thread looks at once (Connection::service) to say so.
        if (resume || paused_.load() > 0) reactor_.wake();
        open(out, bodies, arena);
        keep_spare(spare_bodies_, bodies);
        keep_spare(spare_arena_, arena);
        return out;
    }

    /// Gives back the vector a `take` returned, once its events are moved out (or not needed):
    /// the I/O thread queues into it again instead of new memory for every read.
    void recycle(std::vector<Event>&& taken) { keep_spare(spare_events_, taken); }

    /// Waits up to `timeout` until `ready(event)` holds for a queued event, or `done()` holds
    /// (checked under the lock after every push). True if an event is ready. The waiting thread
    /// runs the I/O loop itself while no other thread does (Reactor::lead): what it waits for is
    /// then read, checked and queued on this thread, with no hand-over between threads.
    template <class Ready, class Done>
    bool wait(std::chrono::milliseconds timeout, Ready&& ready, Done&& done) {
        const TimePoint start = SteadyClock::now();
        const TimePoint deadline =
            timeout >= std::chrono::duration_cast<std::chrono::milliseconds>(no_deadline - start) ? no_deadline : start + timeout;
        std::unique_lock<std::mutex> lock(mutex_);
        auto found = [&] { return std::any_of(events_.begin(), events_.end(), ready); };
        auto over = [&] { return found() || done(); };
        if (over() || timeout.count() <= 0) return found();
        ++leading_;
        lock.unlock();
        const bool led = reactor_.lead(deadline, [&] {
            std::lock_guard<std::mutex> relock(mutex_);
            return over();
        });
        lock.lock();
        --leading_;
        if (!led) {
            ++waiters_;
            if (deadline == no_deadline) cv_.wait(lock, over);
            else cv_.wait_until(lock, deadline, over);
            --waiters_;
        }
        return found();
    }

    /// Wakes waiters to re-check their `done` condition (e.g. the connection closed for good).
    void notify();

    /// How many takes the game has made so far (any thread; counted after each take's release).
    std::uint64_t takes() const { return takes_.load(); }
    /// I/O thread: a connection paused (+1) or resumed (-1) reading. While any is paused, every
    /// take wakes the I/O thread, so a connection learns whether the game's reads free it.
    void count_paused(int delta) { paused_.fetch_add(delta); }
    /// The packets of one channel waiting here.
    struct Waiting {
        std::string channel;
        std::size_t packets = 0;
        std::size_t bytes = 0;  ///< as charged (decoded memory)
    };
    /// The channel whose packets charged to `budget` hold the most memory here (any thread;
    /// walks the queue under its lock: for the rare moment a connection stays paused).
    Waiting most_waiting(const ReceiveBudget* budget);
    /// Memory of the packets waiting to be taken (as charged by `push`). Any thread.
    std::size_t bytes() const { return bytes_.load(); }

private:
    // What an event's packet costs its connection while it waits here.
    struct Charge {
        std::size_t bytes = 0;
        ReceiveBudget* budget = nullptr;
        std::shared_ptr<ReceiveBudget> owner;  // null when an earlier charge of the run holds it
    };
    // With mutex_ held, before some events are taken and others kept: each kept charge holds
    // its budget itself (the charge that held it for the run may be among the taken).
    void keep_budgets();
    // With mutex_ held: gives back the charges from `first` on (the taken events') and drops
    // them: one budget update per run of the same budget (usually all of them), not one per
    // packet. True when the I/O thread should resume reading a connection.
    bool release(std::size_t first);
    // Clears `used` and keeps it as `spare` (under mutex_) if it has more room.
    template <class T>
    void keep_spare(std::vector<T>& spare, std::vector<T>& used) {
        used.clear();
        std::lock_guard<std::mutex> lock(mutex_);
        if (used.capacity() > spare.capacity()) spare.swap(used);
    }
    // A waiter runs the I/O loop: makes it look at this inbox again.
    void wake_leader();
    // With mutex_ held: moves the quietly pushed events behind the announced ones.
    void publish();
    // Decodes each packet's body into its event (`bodies` parallel to `events`, with the bytes
    // of those in an arena in `arena`).
    static void open(std::vector<Event>& events, std::vector<Encoded>& bodies, const Bytes& arena);
    // With mutex_ held: a body kept in arena_ gets its bytes copied to the end of `to`.
    void move_to(Encoded& body, Bytes& to) const;

    Reactor& reactor_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Event> events_;    // guarded by mutex_
    std::vector<Charge> charges_;  // one per event; guarded by mutex_
    std::vector<Encoded> bodies_;  // one per event (empty but for packets); guarded by mutex_
    Bytes arena_;                  // the bytes of bodies_ kept in an arena; guarded by mutex_
    Bytes spare_arena_;            // empty, with room; guarded by mutex_
    Bytes staged_arena_;           // of staged_bodies_: the I/O thread's alone
    std::vector<char> chosen_;     // take()'s choices; guarded by mutex_
    std::vector<Event> spare_events_;   // empty, with room: events_ after a take; guarded by mutex_
    std::vector<Encoded> spare_bodies_; // likewise
    std::vector<Event> staged_events_;    // quiet pushes not announced yet: the I/O thread's alone
    std::vector<Charge> staged_charges_;  // likewise
    std::vector<Encoded> staged_bodies_;  // likewise
    int waiters_ = 0;            // threads in wait(), asleep; guarded by mutex_
    int leading_ = 0;            // threads in wait() running the I/O loop; guarded by mutex_
    std::atomic<std::size_t> bytes_{0};
    std::atomic<std::uint64_t> takes_{0};
    std::atomic<int> paused_{0};  // connections of this inbox that paused reading
};

}  // namespace sprocket::detail

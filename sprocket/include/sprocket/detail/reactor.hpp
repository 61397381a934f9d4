#pragma once
/// \file
/// The one background I/O thread of a process, shared by every Sprocket and Servo.
///
/// The thread waits in epoll(7) on every socket's native descriptor plus a wake-up pipe, so it
/// sleeps when nothing happens and a `send()` on any thread wakes it at once (`wake`). A wait
/// costs the kernel the ready descriptors only, not all of them (poll(2) looked at each of a
/// server's 1000 sockets every time the thread woke). It does not use SFML's `SocketSelector`,
/// which is select()-based: that caps descriptors at 1023 (FD_SETSIZE), and SFML 2.5's
/// `connect` with a timeout aborts the process on a descriptor above that. Here the only limit
/// is the process's descriptor limit (`ulimit -n`); when it is reached, the endpoint reports a
/// clear error instead.
///
/// The loop is run by one thread at a time: the I/O thread, or a thread that waits in `get()`,
/// `wait()` or `wait_connected()` with a timeout (`lead`). A waiting thread that runs the loop
/// reads what it waits for itself and returns with it: one sleep and one wake-up per packet
/// instead of three (the I/O thread's, the hand-over to the waiter, and the I/O thread's going
/// back to sleep), the pattern of a leader/follower server. The I/O thread takes the loop back
/// at once when something needs it (a `wake`, a timer due within `grace`, queued tasks, a waiter
/// that had it for `grace` or longer); otherwise it looks, at most every `grace`, whether a
/// waiter still has it, and takes it once one let go and was not back within `comeback`.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <sys/epoll.h>

namespace sprocket::detail {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;
inline constexpr TimePoint no_deadline = TimePoint::max();

/// Readiness bits, as poll(2) and epoll(7) report them.
enum Readiness : short {
    readable = 0x1,
    writable = 0x4,
    failed = 0x8,
    hangup = 0x10,
};

/// Something the I/O thread serves: a listener or a connection. Every method is called by the
/// thread running the loop only (the I/O thread, or a waiter in its place: see `Reactor`); "I/O
/// thread only" state elsewhere means the same.
class Pollable {
public:
    virtual ~Pollable() = default;
    /// Timers and queued work; returns when it next wants `service` called (`no_deadline`).
    virtual TimePoint service(TimePoint now) = 0;
    /// The native descriptor to wait on (-1: none right now) and the readiness wanted.
    virtual int descriptor() const = 0;
    virtual short interest() const = 0;
    /// The descriptor is ready (`readiness` as epoll(7) reported it).
    virtual void ready(short readiness, TimePoint now) = 0;
    /// True once it has nothing left to do; the I/O thread then drops it.
    virtual bool finished() const = 0;

protected:
    /// Call on the I/O thread just before closing the descriptor (or dropping the socket that
    /// owns it): the I/O thread stops watching it first. epoll watches the socket, not its
    /// number: one closed while watched stays watched as long as a copy of it lives on (a child
    /// process forked meanwhile holds one), and would be reported for an item that may be gone.
    void closing_descriptor() noexcept;

private:
    friend class Reactor;
    int epoll_ = -1;         // the reactor's epoll instance, once added
    int watched_fd_ = -1;    // what it watches for this item (-1: nothing)
    short watched_ = 0;      // and for which readiness
};

/// The shared I/O thread. Endpoints hold it through `acquire()`; the thread starts with the
/// first and stops when the last lets go (after each connection still closing has said its
/// goodbye or run out of linger time).
class Reactor {
public:
    /// The process's reactor, started if none is running.
    /// Throws std::system_error when the thread or the wake-up pipe cannot be created.
    static std::shared_ptr<Reactor> acquire();

    Reactor();
    ~Reactor();
    Reactor(const Reactor&) = delete;
    Reactor& operator=(const Reactor&) = delete;

    /// Runs `task` on the I/O thread soon (in posting order). Any thread.
    void post(std::function<void()> task);
    /// Runs `task` on the I/O thread and waits until it has run. Any thread but the I/O thread.
    void run_and_wait(std::function<void()> task);
    /// Makes the I/O thread look at its connections' queues now. Any thread; cheap when a wake
    /// is already pending.
    void wake();
    /// Adds an item to serve. I/O thread only (from a posted task or an item's callback).
    void add(std::shared_ptr<Pollable> item);

    /// Runs the loop on the calling thread, which waits until `done()` holds or `deadline`
    /// passes, if no other waiting thread runs it (the I/O thread hands it over first). Returns
    /// false at once, having done nothing, when another waiting thread has it (or the reactor is
    /// stopping): the caller then waits as a follower. `done` is called between turns, without
    /// any lock of the reactor's held. The caller must hold no lock an item's code takes (an
    /// inbox's, an outbox's). An exception from an item's code leaves through here, and the
    /// loop goes back to the I/O thread.
    bool lead(TimePoint deadline, const std::function<bool()>& done);
    /// True on the thread running the loop right now.
    bool leading_here() const { return leader_.load() == std::this_thread::get_id(); }

    /// How many reactor threads the process is running right now (0 or 1, briefly 2 while
    /// one stops and another starts). For tests and diagnostics.
    static int running_threads();

    /// How often at most the I/O thread looks whether a waiter still runs the loop. Each look
    /// wakes it, maybe on the waiter's core: looking every 1 ms made the p99 round trip 7x raw
    /// TCP's on one core, every 5 ms 2.4x, every 20 ms 1.7x (medians 1.75x all three,
    /// bench_latency); a waiter that let go is replaced at most this long after it took the loop.
    static constexpr std::chrono::microseconds grace{5000};
    /// How long the loop stays free for a waiter that let go to come back (a server loop takes
    /// its packets, answers them and waits again within microseconds).
    static constexpr std::chrono::microseconds comeback{50};

private:
    void run();
    // One turn of the loop (tasks, timers, one wait no later than `until`, what is ready); a
    // waiter's `done` is asked before the wait, which it skips if that holds. False when the
    // reactor is stopping and has nothing left to serve.
    bool turn(TimePoint until, const std::function<bool()>* done);
    // The I/O thread: waits until it should run the loop, then has it.
    void await_lead();
    // With mutex_ held: the calling thread has the loop now (`io`: the I/O thread).
    void take(bool io);
    // The thread running the loop gives it up (`io`: the I/O thread, to a waiter).
    void release(bool io);
    void drain_wake_pipe();
    // I/O thread only: makes epoll watch what `item` wants now.
    void rewatch(Pollable& item);

    std::mutex mutex_;
    std::vector<std::function<void()>> tasks_;  // guarded by mutex_
    bool stopping_ = false;                     // guarded by mutex_
    std::atomic<bool> wake_pending_{false};
    int wake_read_ = -1;
    int wake_write_ = -1;
    int epoll_ = -1;
    std::vector<std::shared_ptr<Pollable>> items_;  // I/O thread only
    std::vector<epoll_event> events_ = std::vector<epoll_event>(256);  // I/O thread only
    std::vector<std::function<void()>> running_;    // the tasks of this turn; I/O thread only
    TimePoint next_due_ = no_deadline;              // the items' next timer; I/O thread only
    // Who runs the loop: all guarded by mutex_.
    bool led_ = false;         // some thread runs it
    bool io_leads_ = false;    // the I/O thread runs it
    bool kick_ = false;        // the I/O thread should take it as soon as it is free
    TimePoint lead_since_{};   // when the current one took it
    TimePoint released_at_{};  // when the last one let go
    std::condition_variable io_cv_;      // the I/O thread waits here while it does not run it
    std::condition_variable handed_cv_;  // a waiter waits here for the I/O thread to hand it over
    int handovers_ = 0;        // waiters waiting for the I/O thread to hand it over
    std::atomic<bool> step_down_{false};  // handovers_ > 0, read by the I/O thread between turns
    std::atomic<bool> led_flag_{false};   // led_, for wake()
    std::atomic<std::thread::id> leader_{};
    std::thread thread_;
};

}  // namespace sprocket::detail

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

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

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

/// Something the I/O thread serves: a listener or a connection. Every method is called on the
/// I/O thread only.
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
    bool on_io_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

    /// How many reactor threads the process is running right now (0 or 1, briefly 2 while
    /// one stops and another starts). For tests and diagnostics.
    static int running_threads();

private:
    void run();
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
    std::thread thread_;
};

}  // namespace sprocket::detail

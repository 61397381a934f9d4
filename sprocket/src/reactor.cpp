// The shared I/O thread: epoll(7) over native descriptors plus a self-pipe for wake-ups.
// POSIX-only code of sprocket lives here and in socket.cpp.
#include <sprocket/detail/reactor.hpp>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <future>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <system_error>
#include <unistd.h>

namespace sprocket::detail {

static_assert(readable == POLLIN && writable == POLLOUT && failed == POLLERR && hangup == POLLHUP,
              "Readiness must match poll(2)");
static_assert(int{readable} == int{EPOLLIN} && int{writable} == int{EPOLLOUT} && int{failed} == int{EPOLLERR} &&
                  int{hangup} == int{EPOLLHUP},
              "Readiness must match epoll(7)");

namespace {

std::mutex registry_mutex;
std::weak_ptr<Reactor> current;  // guarded by registry_mutex
std::atomic<int> threads_running{0};

void set_nonblocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL, 0);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        throw std::system_error(errno, std::generic_category(), "sprocket: wake-up pipe");
}

// Waits for readiness until `deadline` (no_deadline: no limit), never waking early, at most a
// minute. epoll_pwait2 takes nanoseconds (the held-burst timers are microseconds apart);
// before Linux 5.11 it does not exist, and epoll_wait's milliseconds, rounded up, do.
int wait_ready(int epoll, epoll_event* events, int capacity, TimePoint now, TimePoint deadline) {
    static std::atomic<bool> no_pwait2{false};
    const auto wait = std::clamp<SteadyClock::duration>(deadline - now, SteadyClock::duration::zero(), std::chrono::minutes(1));
    if (!no_pwait2.load(std::memory_order_relaxed)) {
        const auto ns = std::chrono::ceil<std::chrono::nanoseconds>(wait).count();
        timespec timeout{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
        const int n = ::epoll_pwait2(epoll, events, capacity, deadline == no_deadline ? nullptr : &timeout, nullptr);
        if (n >= 0 || errno != ENOSYS) return n;
        no_pwait2.store(true, std::memory_order_relaxed);
    }
    const int ms = deadline == no_deadline ? -1 : static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
    return ::epoll_wait(epoll, events, capacity, ms);
}

}  // namespace

std::shared_ptr<Reactor> Reactor::acquire() {
    std::lock_guard<std::mutex> lock(registry_mutex);
    std::shared_ptr<Reactor> reactor = current.lock();
    if (!reactor) {
        reactor = std::make_shared<Reactor>();
        current = reactor;
    }
    return reactor;
}

int Reactor::running_threads() { return threads_running.load(); }

Reactor::Reactor() {
    int fds[2];
    if (::pipe(fds) != 0) throw std::system_error(errno, std::generic_category(), "sprocket: wake-up pipe");
    wake_read_ = fds[0];
    wake_write_ = fds[1];
    set_nonblocking(wake_read_);
    set_nonblocking(wake_write_);
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event wake_event{};
    wake_event.events = EPOLLIN;
    wake_event.data.ptr = nullptr;  // the wake-up pipe; every other event carries its item
    if (epoll_ < 0 || ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_read_, &wake_event) != 0) {
        const int error = errno;
        if (epoll_ >= 0) ::close(epoll_);
        ::close(wake_read_);
        ::close(wake_write_);
        throw std::system_error(error, std::generic_category(), "sprocket: epoll");
    }
    thread_ = std::thread([this] { run(); });
}

Reactor::~Reactor() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_pending_.store(false);
    wake();
    thread_.join();
    ::close(epoll_);
    ::close(wake_read_);
    ::close(wake_write_);
}

void Reactor::post(std::function<void()> task) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        tasks_.push_back(std::move(task));
    }
    wake();
}

void Reactor::run_and_wait(std::function<void()> task) {
    std::promise<void> done;
    std::future<void> finished = done.get_future();
    post([&task, &done] {
        task();
        done.set_value();
    });
    finished.wait();
}

void Reactor::wake() {
    if (wake_pending_.exchange(true)) return;  // a byte is already on its way
    const std::uint8_t byte = 1;
    // EAGAIN means the pipe is full of wake-ups already: the thread will wake either way.
    [[maybe_unused]] const auto n = ::write(wake_write_, &byte, 1);
}

void Reactor::drain_wake_pipe() {
    std::uint8_t sink[64];
    while (::read(wake_read_, sink, sizeof sink) > 0) {
    }
    // Cleared after draining and before the queues are looked at, so no wake-up is missed.
    wake_pending_.store(false);
}

void Reactor::add(std::shared_ptr<Pollable> item) {
    item->epoll_ = epoll_;
    items_.push_back(std::move(item));
}

void Pollable::closing_descriptor() noexcept {
    if (epoll_ >= 0 && watched_fd_ >= 0) ::epoll_ctl(epoll_, EPOLL_CTL_DEL, watched_fd_, nullptr);
    watched_fd_ = -1;
    watched_ = 0;
}

void Reactor::rewatch(Pollable& item) {
    const int fd = item.descriptor();
    const short interest = fd >= 0 ? item.interest() : 0;
    if (fd == item.watched_fd_ && interest == item.watched_) return;
    epoll_event event{};
    event.events = static_cast<std::uint32_t>(interest);  // errors and hangups are always reported
    event.data.ptr = &item;
    if (fd >= 0 && fd == item.watched_fd_) {
        if (::epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &event) == 0) item.watched_ = interest;
        return;
    }
    // Still open: a closed one was taken out by closing_descriptor().
    item.closing_descriptor();
    // ADD fails only without memory (ENOMEM, or the user's epoll watch limit): the item is
    // looked at again next turn, and its timers still run.
    if (fd >= 0 && ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) == 0) {
        item.watched_fd_ = fd;
        item.watched_ = interest;
    }
}

void Reactor::run() {
    ++threads_running;
    // Timers here are microseconds apart (a held burst, Outbox::hold_limit): the default
    // timer slack (50 us) would make each one late by up to that much.
    ::prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);  // 1 us; only a hint, a failure is harmless
    std::vector<epoll_event> events(256);
    std::vector<std::function<void()>> tasks;
    for (;;) {
        bool stopping;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            tasks.swap(tasks_);
            stopping = stopping_;
        }
        for (auto& task : tasks) task();
        tasks.clear();
        // Stop once the last endpoint has gone and every closing connection is done.
        if (stopping && items_.empty()) break;

        TimePoint now = SteadyClock::now();
        TimePoint deadline = no_deadline;
        for (std::size_t i = 0; i < items_.size();) {
            Pollable& item = *items_[i];
            const TimePoint next = item.service(now);
            if (item.finished()) {
                item.closing_descriptor();  // if it kept one open, it is no longer watched
                items_[i] = std::move(items_.back());
                items_.pop_back();
                continue;
            }
            deadline = std::min(deadline, next);
            rewatch(item);
            ++i;
        }
        if (stopping && items_.empty()) continue;  // re-check tasks, then leave

        const int n = wait_ready(epoll_, events.data(), static_cast<int>(events.size()), now, deadline);
        if (n < 0) continue;  // EINTR: just look again
        now = SteadyClock::now();
        // Items are dropped only above, so every pointer here is alive; one whose descriptor
        // closed during this loop sees the readiness of a socket it no longer has, as before.
        for (int i = 0; i < n; ++i) {
            auto* item = static_cast<Pollable*>(events[static_cast<std::size_t>(i)].data.ptr);
            if (!item) drain_wake_pipe();
            else item->ready(static_cast<short>(events[static_cast<std::size_t>(i)].events), now);
        }
        // A full batch: more may be ready (level-triggered: the next wait reports them).
        if (static_cast<std::size_t>(n) == events.size() && events.size() < 4096) events.resize(events.size() * 2);
    }
    --threads_running;
}

}  // namespace sprocket::detail

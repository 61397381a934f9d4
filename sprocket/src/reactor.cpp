// The shared I/O thread: ppoll(2) over native descriptors plus a self-pipe for wake-ups.
// POSIX-only code of sprocket lives here and in socket.cpp.
#include <sprocket/detail/reactor.hpp>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <future>
#include <poll.h>
#include <sys/prctl.h>
#include <system_error>
#include <unistd.h>

namespace sprocket::detail {

static_assert(readable == POLLIN && writable == POLLOUT && failed == POLLERR && hangup == POLLHUP,
              "Readiness must match poll(2)");

namespace {

std::mutex registry_mutex;
std::weak_ptr<Reactor> current;  // guarded by registry_mutex
std::atomic<int> threads_running{0};

void set_nonblocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL, 0);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        throw std::system_error(errno, std::generic_category(), "sprocket: wake-up pipe");
}

// How long ppoll(2) may sleep until `deadline` (null: no deadline). Never early; at most a minute.
const timespec* poll_timeout(TimePoint now, TimePoint deadline, timespec& out) {
    if (deadline == no_deadline) return nullptr;
    const auto wait = std::clamp<SteadyClock::duration>(deadline - now, SteadyClock::duration::zero(), std::chrono::minutes(1));
    const auto ns = std::chrono::ceil<std::chrono::nanoseconds>(wait).count();
    out.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    out.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    return &out;
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

void Reactor::add(std::shared_ptr<Pollable> item) { items_.push_back(std::move(item)); }

void Reactor::run() {
    ++threads_running;
    // Timers here are microseconds apart (a held burst, Outbox::hold_limit): the default
    // timer slack (50 us) would make each one late by up to that much.
    ::prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);  // 1 us; only a hint, a failure is harmless
    std::vector<pollfd> fds;
    std::vector<Pollable*> polled;
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
        fds.clear();
        polled.clear();
        fds.push_back(pollfd{wake_read_, POLLIN, 0});
        for (std::size_t i = 0; i < items_.size();) {
            Pollable& item = *items_[i];
            const TimePoint next = item.service(now);
            if (item.finished()) {
                items_[i] = std::move(items_.back());
                items_.pop_back();
                continue;
            }
            deadline = std::min(deadline, next);
            const int fd = item.descriptor();
            if (fd >= 0) {
                fds.push_back(pollfd{fd, item.interest(), 0});
                polled.push_back(&item);
            }
            ++i;
        }
        if (stopping && items_.empty()) continue;  // re-check tasks, then leave

        timespec timeout{};
        const int n = ::ppoll(fds.data(), static_cast<nfds_t>(fds.size()), poll_timeout(now, deadline, timeout), nullptr);
        if (n < 0) continue;  // EINTR: just look again
        if (fds[0].revents != 0) drain_wake_pipe();
        now = SteadyClock::now();
        for (std::size_t i = 1; i < fds.size(); ++i) {
            if (fds[i].revents != 0) polled[i - 1]->ready(fds[i].revents, now);
        }
    }
    --threads_running;
}

}  // namespace sprocket::detail

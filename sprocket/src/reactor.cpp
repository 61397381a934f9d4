// The shared I/O thread: epoll(7) over native descriptors plus a self-pipe for wake-ups.
// POSIX-only code of sprocket lives here and in socket.cpp.
#include <sprocket/detail/reactor.hpp>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <future>
#include <iterator>
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
    // Nobody runs the loop (a waiter let go a moment ago): the I/O thread takes it now.
    if (!led_flag_.load()) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            kick_ = true;
        }
        io_cv_.notify_one();
    }
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
    for (bool more = true; more;) {
        await_lead();
        while (!step_down_.load() && (more = turn(no_deadline, nullptr))) {
        }
        release(true);
    }
    --threads_running;
}

bool Reactor::turn(TimePoint until, const std::function<bool()>* done) {
    bool stopping;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        running_.swap(tasks_);
        stopping = stopping_;
    }
    {
        // A task that throws leaves through the thread running the loop (a waiter's get()); the
        // ones after it stay queued, first in line, for the next turn.
        std::size_t ran = 0;
        struct Settle {
            Reactor& reactor;
            const std::size_t& ran;
            ~Settle() {
                auto& tasks = reactor.running_;
                if (ran < tasks.size()) {
                    std::lock_guard<std::mutex> lock(reactor.mutex_);
                    reactor.tasks_.insert(reactor.tasks_.begin(),
                                          std::make_move_iterator(tasks.begin() + static_cast<std::ptrdiff_t>(ran + 1)),
                                          std::make_move_iterator(tasks.end()));
                }
                tasks.clear();
            }
        } settle{*this, ran};
        for (; ran < running_.size(); ++ran) running_[ran]();
    }
    // Stop once the last endpoint has gone and every closing connection is done.
    if (stopping && items_.empty()) return false;

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
    next_due_ = deadline;
    if (stopping && items_.empty()) return true;  // re-check tasks, then leave
    // A waiter's condition may hold already (a close above queued its event): it only looks at
    // what is ready now, without sleeping.
    if (done && (*done)()) until = now;

    const int n = wait_ready(epoll_, events_.data(), static_cast<int>(events_.size()), now, std::min(deadline, until));
    if (n < 0) return true;  // EINTR: just look again
    now = SteadyClock::now();
    // Items are dropped only above, so every pointer here is alive; one whose descriptor
    // closed during this loop sees the readiness of a socket it no longer has, as before.
    for (int i = 0; i < n; ++i) {
        auto* item = static_cast<Pollable*>(events_[static_cast<std::size_t>(i)].data.ptr);
        if (!item) drain_wake_pipe();
        else item->ready(static_cast<short>(events_[static_cast<std::size_t>(i)].events), now);
    }
    // A full batch: more may be ready (level-triggered: the next wait reports them).
    if (static_cast<std::size_t>(n) == events_.size() && events_.size() < 4096) events_.resize(events_.size() * 2);
    return true;
}

void Reactor::await_lead() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        const TimePoint now = SteadyClock::now();
        if (!led_) {
            if (kick_ || stopping_ || (handovers_ == 0 && now - released_at_ >= comeback)) break;
            // A waiter that let go is usually back within microseconds (it took its packet,
            // answered it and waits again): the loop stays free for it a moment. One it was
            // handed to takes it (or gives up) as soon as it runs.
            io_cv_.wait_until(lock, handovers_ > 0 ? now + comeback : released_at_ + comeback);
        } else if (now - lead_since_ < grace) {
            io_cv_.wait_until(lock, lead_since_ + grace);  // its letting go will not call us
        } else {
            io_cv_.wait(lock);  // one that had it this long calls us when it lets go
        }
    }
    take(true);
}

void Reactor::take(bool io) {
    led_ = true;
    io_leads_ = io;
    kick_ = false;
    lead_since_ = SteadyClock::now();
    led_flag_.store(true);
    leader_.store(std::this_thread::get_id());
}

bool Reactor::lead(TimePoint deadline, const std::function<bool()>& done) {
    {
        std::unique_lock<std::mutex> lock(mutex_);
        if (stopping_ || (led_ && !io_leads_)) return false;
        if (led_) {
            // The I/O thread has it, most likely asleep in epoll: it hands over after this turn.
            ++handovers_;
            step_down_.store(true);
            lock.unlock();
            wake();
            lock.lock();
            const auto handed = [&] { return !led_ || stopping_; };
            if (deadline == no_deadline) handed_cv_.wait(lock, handed);
            else handed_cv_.wait_until(lock, deadline, handed);
            step_down_.store(--handovers_ > 0);
            if (led_ || stopping_) return false;
        }
        take(false);
    }
    struct Release {
        Reactor& reactor;
        ~Release() { reactor.release(false); }
    } release{*this};
    while (!done() && turn(deadline, &done) && SteadyClock::now() < deadline) {
    }
    return true;
}

void Reactor::release(bool io) {
    bool call_io = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const TimePoint now = SteadyClock::now();
        led_ = false;
        io_leads_ = false;
        released_at_ = now;
        leader_.store(std::thread::id());
        led_flag_.store(false);  // then wake_pending_ is read: a wake() sees one or the other
        if (!io) {
            // The I/O thread takes over at once when it is needed before it would look.
            call_io = now - lead_since_ >= grace || wake_pending_.load() || next_due_ <= now + grace || !tasks_.empty() || stopping_;
            kick_ = kick_ || call_io;
        }
    }
    if (io) handed_cv_.notify_all();
    else if (call_io) io_cv_.notify_one();
}

}  // namespace sprocket::detail

#pragma once
// A child process for tests (POSIX): started with posix_spawn, its stdout and stderr on pipes,
// stdin from /dev/null. Every read and every wait for its exit has a deadline (poll(2) on the
// pipes and on a pidfd), never a fixed sleep. The destructor stops a child that still runs
// (SIGTERM, then SIGKILL if it has not exited within 10 s) and reaps it.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace testsupport {

/// Owns one file descriptor.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }
    void reset() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

class ChildProcess {
public:
    using Clock = std::chrono::steady_clock;

    /// Starts `path` with `args` (argv[0] is `path`). Its stdin is /dev/null, or with `input` a
    /// pipe fed by `write_input`. Throws std::system_error when it cannot.
    ChildProcess(const std::string& path, const std::vector<std::string>& args, bool input = false) {
        UniqueFd out_read, out_write, err_read, err_write, in_read, in_write;
        make_pipe(out_read, out_write);
        make_pipe(err_read, err_write);

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        if (input) {
            make_pipe(in_read, in_write);
            posix_spawn_file_actions_adddup2(&actions, in_read.get(), STDIN_FILENO);
        } else {
            posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        }
        // dup2 clears close-on-exec on the copy: only these two pipe ends reach the child.
        posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, err_write.get(), STDERR_FILENO);

        // The child starts with no blocked signals and the default action for the ones the
        // tests use, whatever the test runner did with them.
        posix_spawnattr_t attributes;
        posix_spawnattr_init(&attributes);
        sigset_t none;
        sigemptyset(&none);
        posix_spawnattr_setsigmask(&attributes, &none);
        sigset_t defaults;
        sigemptyset(&defaults);
        for (int sig : {SIGTERM, SIGINT, SIGPIPE}) sigaddset(&defaults, sig);
        posix_spawnattr_setsigdefault(&attributes, &defaults);
        posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

        std::vector<std::string> argv_strings;
        argv_strings.push_back(path);
        argv_strings.insert(argv_strings.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (std::string& s : argv_strings) argv.push_back(s.data());
        argv.push_back(nullptr);

        const int error = ::posix_spawn(&pid_, path.c_str(), &actions, &attributes, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attributes);
        if (error != 0) {
            pid_ = -1;
            throw std::system_error(error, std::generic_category(), "posix_spawn " + path);
        }
        out_ = std::move(out_read);
        err_ = std::move(err_read);
        in_ = std::move(in_write);
        // The write ends close here (end of scope): the pipes reach EOF when the child exits.
#ifdef SYS_pidfd_open
        // Readable when the child exits. If the kernel lacks pidfd_open, the exit is noticed
        // when both pipes reach EOF instead.
        pidfd_ = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
#endif
    }

    ~ChildProcess() {
        if (pid_ < 0 || status_) return;
        ::kill(pid_, SIGTERM);
        if (!wait_exit(Clock::now() + std::chrono::seconds(10))) {
            ::kill(pid_, SIGKILL);
            int ignored = 0;
            ::waitpid(pid_, &ignored, 0);
        }
    }

    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    /// Writes `text` to the child's stdin (started with `input`). False if it cannot.
    bool write_input(std::string_view text) {
        static const bool no_sigpipe = std::signal(SIGPIPE, SIG_IGN) != SIG_ERR;  // a gone child: EPIPE
        (void)no_sigpipe;
        while (!text.empty() && in_.valid()) {
            const ssize_t n = ::write(in_.get(), text.data(), text.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            text.remove_prefix(static_cast<std::size_t>(n));
        }
        return text.empty();
    }
    /// Ends the child's stdin (EOF).
    void close_input() { in_.reset(); }

    /// Sends `sig` to the child, unless it has been reaped already.
    bool signal(int sig) const { return !status_ && ::kill(pid_, sig) == 0; }

    /// The next line of stdout, without its '\n'; nullopt when the output ended without one,
    /// or at the deadline.
    std::optional<std::string> read_line(Clock::time_point deadline) {
        for (;;) {
            const auto eol = out_text_.find('\n', consumed_);
            if (eol != std::string::npos) {
                std::string line = out_text_.substr(consumed_, eol - consumed_);
                consumed_ = eol + 1;
                return line;
            }
            if (!out_.valid() || !pump(deadline)) return std::nullopt;
        }
    }

    /// Reads stdout until all of it so far contains `text`. False if the output ended without
    /// it, or at the deadline.
    bool wait_for_output(std::string_view text, Clock::time_point deadline) {
        for (;;) {
            if (out_text_.find(text) != std::string::npos) return true;
            if (!out_.valid() || !pump(deadline)) return false;
        }
    }

    /// Waits until the child has exited, reading its output meanwhile, and reaps it. Returns
    /// its exit code (128 + N when signal N ended it), or nullopt at the deadline.
    std::optional<int> wait_exit(Clock::time_point deadline) {
        while (!status_) {
            if (!exited_ && !pump(deadline)) return std::nullopt;
            if (!exited_) continue;
            int raw = 0;
            if (::waitpid(pid_, &raw, 0) == pid_) status_ = WIFSIGNALED(raw) ? 128 + WTERMSIG(raw) : WEXITSTATUS(raw);
            else status_ = -1;
        }
        // Whatever it wrote before exiting is in the pipes: read it to the end.
        while ((out_.valid() || err_.valid()) && pump(deadline)) {
        }
        return status_;
    }

    /// Everything the child wrote on stdout / stderr so far.
    const std::string& out() const { return out_text_; }
    const std::string& err() const { return err_text_; }

private:
    static void make_pipe(UniqueFd& read_end, UniqueFd& write_end) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
        read_end = UniqueFd(fds[0]);
        write_end = UniqueFd(fds[1]);
    }

    // Waits (until the deadline) for output or the child's exit and takes what is there.
    // False at the deadline, or when there is nothing left to wait for.
    bool pump(Clock::time_point deadline) {
        pollfd fds[3];
        nfds_t count = 0;
        for (const UniqueFd* fd : {&out_, &err_, &pidfd_}) {
            if (fd->valid() && !(fd == &pidfd_ && exited_)) fds[count++] = pollfd{fd->get(), POLLIN, 0};
        }
        if (count == 0) return false;
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        const int ready = ::poll(fds, count, static_cast<int>(std::min<decltype(left)>(left, 60'000)));
        if (ready < 0) return errno == EINTR;
        if (ready == 0) return Clock::now() < deadline;  // poll may return a little early
        for (nfds_t i = 0; i < count; ++i) {
            if (fds[i].revents == 0) continue;
            if (fds[i].fd == pidfd_.get()) exited_ = true;
            else take(fds[i].fd == out_.get() ? out_ : err_, fds[i].fd == out_.get() ? out_text_ : err_text_);
        }
        if (!pidfd_.valid() && !out_.valid() && !err_.valid()) exited_ = true;  // no pidfd: EOF means exit
        return true;
    }

    // One read from a ready pipe; closes it at EOF.
    static void take(UniqueFd& fd, std::string& text) {
        char buffer[4096];
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n > 0) text.append(buffer, static_cast<std::size_t>(n));
        else if (n == 0 || errno != EINTR) fd.reset();
    }

    pid_t pid_ = -1;
    UniqueFd out_, err_, pidfd_;
    std::string out_text_, err_text_;
    UniqueFd in_;
    std::size_t consumed_ = 0;  // out_text_ before this was returned by read_line
    bool exited_ = false;       // the child has exited (not reaped yet unless status_)
    std::optional<int> status_;
};

/// Reads the child's lines until one starts with `prefix` and ends in `:PORT`; returns PORT,
/// or 0 when no such line came by the deadline (the output so far is in `child.out()`).
inline std::uint16_t read_port(ChildProcess& child, std::string_view prefix, ChildProcess::Clock::time_point deadline) {
    while (const auto line = child.read_line(deadline)) {
        if (line->rfind(prefix, 0) != 0) continue;
        const auto colon = line->rfind(':');
        if (colon == std::string::npos) return 0;
        unsigned long port = 0;
        for (std::size_t i = colon + 1; i < line->size(); ++i) {
            const char c = (*line)[i];
            if (c < '0' || c > '9' || port > 65535) return 0;
            port = port * 10 + static_cast<unsigned long>(c - '0');
        }
        return port <= 65535 ? static_cast<std::uint16_t>(port) : 0;
    }
    return 0;
}

/// How many times `what` occurs in `text` (not overlapping): "said once, not twice".
inline std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
    return n;
}

}  // namespace testsupport

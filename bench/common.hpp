#pragma once
// What the network benchmarks share: clocks, running a role of the same program in a child
// process (and talking to it line by line), percentiles, and the side-by-side tables printed as
// text and written as Markdown and JSON.
//
// Each benchmark program is its own orchestrator: `bench_latency` (no role) starts
// `bench_latency serve ...` and `bench_latency ping ...` as two child processes, reads their
// results from their standard output ("key value" lines) and prints the table. A child never
// outlives its parent (PR_SET_PDEATHSIG), and every wait on a child is bounded.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

#ifndef SPROCKET_BENCH_BUILD_TYPE
#define SPROCKET_BENCH_BUILD_TYPE ""
#endif

namespace bench {

using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

// --- clocks -------------------------------------------------------------------------------------

/// CLOCK_MONOTONIC in nanoseconds: one clock for every process of the machine, so a timestamp
/// written by the server can be compared with the client's clock.
inline std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

/// CPU time used so far by every thread of this process (user + system), in nanoseconds.
inline std::int64_t process_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

/// getrusage(RUSAGE_SELF): user + system seconds of this process.
inline double rusage_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
    return s(ru.ru_utime) + s(ru.ru_stime);
}

/// Resident memory of this process (the second field of /proc/self/statm), in bytes.
inline std::int64_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::int64_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * sysconf(_SC_PAGESIZE);
}

inline void sleep_until_ns(std::int64_t deadline) {
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(deadline / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(deadline % 1'000'000'000);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

// --- a role's process ---------------------------------------------------------------------------

/// Raises this process's descriptor limit to its hard limit (1000 connections need more than
/// Debian's default 1024). Returns the limit now in force.
inline rlim_t raise_nofile() {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
    return limit.rlim_cur;
}

/// Keeps this process (and the threads it starts later) on one CPU; -1 leaves it to the OS.
inline void pin_to_cpu(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) std::perror("bench: sched_setaffinity");
}

/// A failed step of a role: throws, and `run_role` reports it as an "error ..." line.
inline void check(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error(what);
}

/// First thing a child role does: die with the parent, never on SIGPIPE, run on `cpu`.
inline void start_role(int cpu = -1) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) std::exit(3);  // the parent is gone already
    signal(SIGPIPE, SIG_IGN);
    pin_to_cpu(cpu);
}

/// A child role reports to its parent: one "key value" line on standard output.
template <class T>
void report(std::string_view key, const T& value) {
    std::cout << key << ' ' << value << std::endl;
}

/// A child role waits up to `timeout` for a line from its parent on standard input (e.g. "stop").
/// Returns the line, or nullopt on timeout; "eof" when the parent closed the pipe. (Reads the
/// descriptor itself: a buffered std::cin would hide a second line from poll(2).)
inline std::optional<std::string> parent_line(Millis timeout) {
    static std::string buffer;
    const std::int64_t deadline = now_ns() + std::chrono::nanoseconds(timeout).count();
    for (;;) {
        const auto nl = buffer.find('\n');
        if (nl != std::string::npos) {
            std::string line = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            return line;
        }
        const std::int64_t left = deadline - now_ns();
        pollfd p{STDIN_FILENO, POLLIN, 0};
        if (::poll(&p, 1, left <= 0 ? 0 : static_cast<int>(left / 1'000'000 + 1)) <= 0) return std::nullopt;
        char chunk[256];
        const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
        if (n <= 0) return std::string("eof");
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
}

/// Runs a child role's body: an exception becomes an "error ..." line and exit status 1.
template <class Body>
int run_role(Body&& body) {
    try {
        return body();
    } catch (const std::exception& e) {
        report("error", e.what());
        return 1;
    }
}

/// The whole of a child role: `start_role(cpu)`, then `run_role(body)`.
template <class Body>
int role(Body&& body, int cpu = -1) {
    start_role(cpu);
    return run_role(std::forward<Body>(body));
}

// --- child processes ----------------------------------------------------------------------------

/// A role of this same program in a child process (posix_spawn of /proc/self/exe), with its
/// standard input and output connected to us by pipes. The destructor kills it if it still runs.
class Child {
public:
    explicit Child(std::vector<std::string> args) : name_(args.empty() ? "" : args.front()) {
        static const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
        int to[2], from[2];
        if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0) throw std::runtime_error("bench: pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, to[0], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&actions, from[1], STDOUT_FILENO);
        std::vector<std::string> argv_s{self};
        argv_s.insert(argv_s.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (std::string& a : argv_s) argv.push_back(a.data());
        argv.push_back(nullptr);
        const int rc = posix_spawn(&pid_, self.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(to[0]);
        ::close(from[1]);
        in_ = to[1];
        out_ = from[0];
        if (rc != 0) {
            pid_ = -1;
            throw std::runtime_error("bench: cannot start " + self + ": " + std::strerror(rc));
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (in_ >= 0) ::close(in_);
        if (pid_ > 0) wait(2s);
        if (out_ >= 0) ::close(out_);
    }

    /// The next line the child printed, waiting at most `timeout`; nullopt on timeout or exit.
    std::optional<std::string> line(Millis timeout) {
        const std::int64_t deadline = now_ns() + std::chrono::nanoseconds(timeout).count();
        for (;;) {
            const auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                std::string l = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                lines_.push_back(l);
                return l;
            }
            const std::int64_t left = deadline - now_ns();
            if (left <= 0 || out_ < 0) return std::nullopt;
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left / 1'000'000 + 1)) <= 0) continue;
            char chunk[4096];
            const ssize_t n = ::read(out_, chunk, sizeof chunk);
            if (n <= 0) {
                ::close(out_);
                out_ = -1;
                continue;
            }
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    /// Reads lines until one says `key value`; returns the value. Throws after `timeout`.
    std::string expect(std::string_view key, Millis timeout) {
        const std::int64_t deadline = now_ns() + std::chrono::nanoseconds(timeout).count();
        if (auto v = value(key)) return *v;
        while (now_ns() < deadline) {
            const auto l = line(Millis((deadline - now_ns()) / 1'000'000 + 1));
            if (!l) break;
            if (const auto v = value_of(*l, key)) return *v;
        }
        throw std::runtime_error(name_ + ": no '" + std::string(key) + "' from the child within " +
                                 std::to_string(timeout.count()) + " ms" + (error().empty() ? "" : " (" + error() + ")"));
    }
    double number(std::string_view key, Millis timeout) { return std::stod(expect(key, timeout)); }

    /// Like `expect`, but each call returns the next `key` line after the one returned last
    /// time (for a key the child prints again and again).
    std::string next(const std::string& key, Millis timeout) {
        const std::int64_t deadline = now_ns() + std::chrono::nanoseconds(timeout).count();
        std::size_t& at = cursor_[key];
        for (;;) {
            for (; at < lines_.size(); ++at) {
                if (auto v = value_of(lines_[at], key)) {
                    ++at;
                    return *v;
                }
            }
            if (now_ns() >= deadline || !line(Millis((deadline - now_ns()) / 1'000'000 + 1))) {
                if (at < lines_.size()) continue;
                throw std::runtime_error(name_ + ": no further '" + key + "' from the child within " +
                                         std::to_string(timeout.count()) + " ms" +
                                         (error().empty() ? "" : " (" + error() + ")"));
            }
        }
    }

    /// The value of the first line `key value` read so far.
    std::optional<std::string> value(std::string_view key) const {
        for (const std::string& l : lines_)
            if (auto v = value_of(l, key)) return v;
        return std::nullopt;
    }
    /// Every line `key ...` read so far (values only).
    std::vector<std::string> values(std::string_view key) const {
        std::vector<std::string> out;
        for (const std::string& l : lines_)
            if (auto v = value_of(l, key)) out.push_back(*v);
        return out;
    }
    /// What an "error ..." line said, if the child printed one.
    std::string error() const { return value("error").value_or(""); }

    void tell(const std::string& line) {
        if (in_ < 0) return;
        const std::string l = line + '\n';
        [[maybe_unused]] const ssize_t n = ::write(in_, l.data(), l.size());
    }

    /// Waits for the child to exit, at most `timeout`, then kills it. Returns its exit status
    /// (128 + signal when killed).
    int wait(Millis timeout) {
        if (pid_ <= 0) return status_;
        const std::int64_t deadline = now_ns() + std::chrono::nanoseconds(timeout).count();
        int st = 0;
        for (;;) {
            const pid_t r = waitpid(pid_, &st, WNOHANG);
            if (r == pid_) break;
            if (now_ns() >= deadline) {
                kill(pid_, SIGKILL);
                waitpid(pid_, &st, 0);
                break;
            }
            // Keep reading its output so a chatty child never blocks on a full pipe.
            if (out_ >= 0) line(5ms);
            else std::this_thread::sleep_for(5ms);
        }
        pid_ = -1;
        while (line(0ms)) {
        }
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return status_;
    }

private:
    static std::optional<std::string> value_of(const std::string& line, std::string_view key) {
        if (line.size() < key.size() || line.compare(0, key.size(), key) != 0) return std::nullopt;
        if (line.size() == key.size()) return std::string();
        if (line[key.size()] != ' ') return std::nullopt;
        return line.substr(key.size() + 1);
    }

    std::string name_;
    pid_t pid_ = -1;
    int in_ = -1;
    int out_ = -1;
    int status_ = -1;
    std::string buffer_;
    std::vector<std::string> lines_;
    std::map<std::string, std::size_t> cursor_;
};

// --- statistics ---------------------------------------------------------------------------------

/// The p-th percentile (0..100) of `sorted` by nearest rank; 0 when empty.
inline double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    const double rank = p / 100.0 * static_cast<double>(sorted.size());
    std::size_t i = rank <= 1 ? 0 : static_cast<std::size_t>(rank + 0.999999) - 1;
    return sorted[std::min(i, sorted.size() - 1)];
}

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return percentile(v, 50);
}

// --- tables -------------------------------------------------------------------------------------

/// One number in a table, or a text saying why there is none ("not installed", "failed: ...").
struct Cell {
    std::optional<double> value;
    std::string text;
    static Cell of(double v) { return Cell{v, ""}; }
    static Cell none(std::string why) { return Cell{std::nullopt, std::move(why)}; }
};

/// A side-by-side table: each row is one measurement; the first column is sprocket, then the
/// baselines measured in the same run; after each baseline, sprocket ÷ that baseline.
struct Table {
    std::string title;
    std::vector<std::string> columns;  // "sprocket", "raw TCP", ...
    struct Row {
        std::string metric;
        std::vector<Cell> cells;  // one per column
    };
    std::vector<Row> rows;
    std::vector<std::string> notes;

    void add(std::string metric, std::vector<Cell> cells) {
        cells.resize(columns.size(), Cell::none("-"));
        rows.push_back(Row{std::move(metric), std::move(cells)});
    }
};

inline std::string fixed(double v, int digits) {
    std::ostringstream os;
    os << std::fixed << std::setprecision(digits) << v;
    return os.str();
}

/// Three significant digits or so: 0.123, 1.23, 12.3, 123, 12345; whole numbers as they are.
inline std::string num(double v) {
    const double a = v < 0 ? -v : v;
    if (a >= 100 || a == static_cast<double>(static_cast<long long>(a))) return fixed(v, 0);
    if (a >= 10) return fixed(v, 1);
    if (a >= 1) return fixed(v, 2);
    return fixed(v, 3);
}

inline std::string cell_text(const Cell& c) { return c.value ? num(*c.value) : c.text; }

inline std::string ratio_text(const Cell& sprocket, const Cell& base) {
    if (!sprocket.value || !base.value || *base.value == 0) return "-";
    return fixed(*sprocket.value / *base.value, 2) + "x";
}

/// Header and body cells: metric, sprocket, then (baseline, ratio) per baseline.
inline std::vector<std::vector<std::string>> table_cells(const Table& t) {
    std::vector<std::vector<std::string>> out;
    std::vector<std::string> head{"", t.columns.empty() ? "" : t.columns[0]};
    for (std::size_t c = 1; c < t.columns.size(); ++c) {
        head.push_back(t.columns[c]);
        head.push_back("ratio");
    }
    out.push_back(head);
    for (const auto& r : t.rows) {
        std::vector<std::string> line{r.metric, cell_text(r.cells[0])};
        for (std::size_t c = 1; c < t.columns.size(); ++c) {
            line.push_back(cell_text(r.cells[c]));
            line.push_back(ratio_text(r.cells[0], r.cells[c]));
        }
        out.push_back(line);
    }
    return out;
}

inline void print_text(std::ostream& os, const Table& t) {
    const auto cells = table_cells(t);
    std::vector<std::size_t> width(cells[0].size(), 0);
    for (const auto& line : cells)
        for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
    os << t.title << "\n\n";
    for (std::size_t l = 0; l < cells.size(); ++l) {
        for (std::size_t i = 0; i < cells[l].size(); ++i) {
            if (i > 0) os << " | ";
            const int w = static_cast<int>(width[i]);
            if (i == 0) os << std::left << std::setw(w) << cells[l][i];
            else os << std::right << std::setw(w) << cells[l][i];
        }
        os << '\n';
        if (l == 0) {
            for (std::size_t i = 0; i < width.size(); ++i) os << (i > 0 ? "-+-" : "") << std::string(width[i], '-');
            os << '\n';
        }
    }
    os << std::left;
    for (const std::string& n : t.notes) os << "  " << n << '\n';
    os << '\n';
}

inline void print_markdown(std::ostream& os, const Table& t) {
    const auto cells = table_cells(t);
    os << "### " << t.title << "\n\n";
    for (std::size_t l = 0; l < cells.size(); ++l) {
        os << '|';
        for (const std::string& c : cells[l]) os << ' ' << c << " |";
        os << '\n';
        if (l == 0) {
            os << "|---|";
            for (std::size_t i = 1; i < cells[l].size(); ++i) os << "---:|";
            os << '\n';
        }
    }
    if (!t.notes.empty()) os << '\n';
    for (const std::string& n : t.notes) os << "- " << n << '\n';
    os << '\n';
}

inline std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + '"';
}

inline void print_json(std::ostream& os, const std::vector<Table>& tables) {
    os << "[\n";
    for (std::size_t ti = 0; ti < tables.size(); ++ti) {
        const Table& t = tables[ti];
        os << "  {\"title\": " << json_string(t.title) << ",\n   \"rows\": [\n";
        for (std::size_t r = 0; r < t.rows.size(); ++r) {
            os << "     {\"metric\": " << json_string(t.rows[r].metric);
            for (std::size_t c = 0; c < t.columns.size(); ++c) {
                const Cell& cell = t.rows[r].cells[c];
                os << ", " << json_string(t.columns[c]) << ": "
                   << (cell.value ? fixed(*cell.value, 3) : json_string(cell.text));
            }
            os << "}" << (r + 1 < t.rows.size() ? "," : "") << '\n';
        }
        os << "   ],\n   \"notes\": [";
        for (std::size_t n = 0; n < t.notes.size(); ++n) os << (n ? ", " : "") << json_string(t.notes[n]);
        os << "]}" << (ti + 1 < tables.size() ? "," : "") << '\n';
    }
    os << "]\n";
}

inline std::string compiler() {
#if defined(__clang__)
    std::string name = "clang " __clang_version__;
#elif defined(__GNUC__)
    std::string name = "g++ " __VERSION__;
#else
    std::string name = "unknown compiler";
#endif
    while (!name.empty() && name.back() == ' ') name.pop_back();
    return name;
}

inline std::string build_type() {
    std::string type = SPROCKET_BENCH_BUILD_TYPE;
    if (type.empty()) type = "no build type";
#ifndef NDEBUG
    type += ", assertions on";
#endif
    return type;
}

/// Command-line options every benchmark program takes when run without a role.
struct Options {
    bool quick = false;
    std::string out_dir;
};

/// Parses `[--quick] [--out DIR]`; exits with the usage on anything else.
inline Options parse_options(int argc, char** argv, const char* usage) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--quick") o.quick = true;
        else if (arg == "--out" && i + 1 < argc) o.out_dir = argv[++i];
        else {
            std::cerr << usage << '\n';
            std::exit(2);
        }
    }
    return o;
}

/// Prints the tables; with an output folder, also writes NAME.md and NAME.json there.
inline bool publish(const Options& o, const std::string& name, const std::vector<Table>& tables,
                    const std::string& header) {
    std::cout << header << "\n\n";
    for (const Table& t : tables) print_text(std::cout, t);
    std::cout.flush();
    if (o.out_dir.empty()) return true;
    std::error_code ec;
    std::filesystem::create_directories(o.out_dir, ec);
    const std::filesystem::path dir(o.out_dir);
    std::ofstream md(dir / (name + ".md"));
    md << "## bench_" << name << "\n\n" << header << "\n\n";
    for (const Table& t : tables) print_markdown(md, t);
    std::ofstream js(dir / (name + ".json"));
    print_json(js, tables);
    md.close();
    js.close();
    if (!md || !js) {
        std::cerr << name << ": cannot write to " << o.out_dir << '\n';
        return false;
    }
    return true;
}

/// Writes a tab-separated data file for the chart (bench_chart) into the output folder.
inline void write_tsv(const Options& o, const std::string& file, const std::vector<std::vector<std::string>>& lines) {
    if (o.out_dir.empty()) return;
    std::error_code ec;
    std::filesystem::create_directories(o.out_dir, ec);
    std::ofstream f(std::filesystem::path(o.out_dir) / file);
    for (const auto& l : lines) {
        for (std::size_t i = 0; i < l.size(); ++i) f << (i ? "\t" : "") << l[i];
        f << '\n';
    }
}

/// The standard header line of a benchmark's output.
inline std::string header(const std::string& name, const std::string& what, bool quick) {
    return name + ": " + what + "; " + compiler() + ", " + build_type() + (quick ? " (--quick)" : "");
}

}  // namespace bench

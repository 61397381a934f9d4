// sprocket-cat: netcat for sprocket. Connects to a server, prints every packet it receives as
// one JSON line on stdout, and sends every JSON line read from stdin as a packet.
//
//   sprocket-relay --port 4242 &
//   echo '{"$channel": "chat", "text": "hi"}' | sprocket-cat 127.0.0.1:4242
//
// The JSON form (tools/json_packet.hpp): an object per packet; "$channel" for the channel;
// {"$bytes": "<base64>"} for bytes. A malformed line is reported on stderr with its line
// number and skipped; nothing a line or the server sends can crash it. Connection events go to
// stderr. It runs until the connection ends for good, Ctrl-C, or -q SECONDS after stdin ends.
// Exit status: 0 normally, 1 when the connection failed or ended other than by us, 2 bad arguments.
#include "json_packet.hpp"

#include <sprocket/sprocket.hpp>

#include <atomic>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

const char* const usage = R"(usage: sprocket-cat [options] HOST[:PORT]
       sprocket-cat [options] HOST PORT

Prints every packet the server sends as one JSON line, and sends every JSON line from stdin
as a packet: {"key": value, ...}, "$channel": "name" for the channel, {"$bytes": "<base64>"}
for bytes. Port 4242 by default.

  --app NAME      the server's application name (default "sprocket")
  --password PW   the server's password
  -q SECONDS      quit SECONDS after stdin ends and the connection is up (0.5 and 0 work
                  too; default: keep printing until Ctrl-C)
  -w SECONDS      while the server is not there yet (a server just started), keep trying to
                  connect for about SECONDS (default: give up at once)
  --help          this text

Exit status: 0 normally; 1 the connection failed or the server ended it; 2 bad arguments.
)";

volatile std::sig_atomic_t stop_requested = 0;

// One line on stderr in a single write: the stdin thread and the main thread both report, and
// a line must not be cut in two by the other's.
template <class... Parts>
void say(const Parts&... parts) {
    std::ostringstream line;
    line << "sprocket-cat: ";
    (line << ... << parts);
    line << '\n';
    const std::string text = line.str();
    std::fwrite(text.data(), 1, text.size(), stderr);
}
extern "C" void request_stop(int) { stop_requested = 1; }

struct Args {
    std::string host;
    std::uint16_t port = 4242;
    sprocket::SprocketOptions options;
    std::optional<double> quit_after;
    double connect_wait = 0;  // -w: seconds to keep trying to connect
    bool port_given = false;
};

[[noreturn]] void bad(const std::string& why) {
    std::cerr << "sprocket-cat: " << why << " (see --help)\n";
    std::exit(2);
}

/// A number of seconds: whole or fractional, 0 or more.
double seconds(const std::string& text, const char* option) {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(value) || value < 0 || value > 1e6)
        bad(std::string(option) + " needs a number of seconds, got '" + text + "'");
    return value;
}

template <class T>
T number(std::string_view text, const char* what) {
    T value{};
    const auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || ptr != text.data() + text.size()) bad(std::string("bad ") + what + " '" + std::string(text) + "'");
    return value;
}

Args parse(int argc, char** argv) {
    Args args;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&] {
            if (i + 1 >= argc) bad(a + " needs a value");
            return std::string(argv[++i]);
        };
        if (a == "--help" || a == "-h") {
            std::cout << usage;
            std::exit(0);
        } else if (a == "--app") {
            args.options.application = value();
        } else if (a == "--password") {
            args.options.password = value();
        } else if (a == "-q") {
            args.quit_after = seconds(value(), "-q");
        } else if (a == "-w") {
            args.connect_wait = seconds(value(), "-w");
        } else if (!a.empty() && a[0] == '-') {
            bad("unknown option " + a);
        } else if (args.host.empty()) {
            const auto colon = a.rfind(':');
            args.host = a.substr(0, colon);
            if (colon != std::string::npos) {
                args.port = number<std::uint16_t>(std::string_view(a).substr(colon + 1), "port");
                args.port_given = true;
            }
            if (args.host.empty()) bad("which server? HOST[:PORT]");
        } else if (!args.port_given) {  // netcat style: HOST PORT
            args.port = number<std::uint16_t>(a, "port");
            args.port_given = true;
        } else {
            bad("unexpected '" + a + "'");
        }
    }
    if (args.host.empty()) bad("which server? HOST[:PORT]");
    return args;
}

}  // namespace

int main(int argc, char** argv) {
    Args args = parse(argc, argv);
    const bool waiting = args.connect_wait > 0;
    if (waiting) {  // -w: a refused connect is tried again every 100 ms, for about that long
        args.options.reconnect = true;
        args.options.reconnect_delay = 100ms;
        args.options.reconnect_max_delay = 100ms;
        args.options.reconnect_attempts = std::max(1, static_cast<int>(std::ceil(args.connect_wait * 10)));
    }
    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
    std::signal(SIGPIPE, SIG_IGN);

    std::optional<sprocket::Sprocket> link;
    try {
        link.emplace(args.host, args.port, args.options);
    } catch (const std::invalid_argument& e) {
        bad(e.what());
    }

    // stdin on a thread of its own (a Sprocket may be used from any thread): each line is
    // parsed and sent at once; its end is noted.
    std::atomic<bool> input_done{false};
    std::atomic<int> refused{0};
    std::thread reader([&] {
        std::string line;
        for (std::size_t number = 1; std::getline(std::cin, line); ++number) {
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            try {
                if (!link->send(sprocket::cat::packet_from_json(line))) ++refused;
            } catch (const sprocket::cat::JsonError& e) {
                say("line ", number, ": ", e.what());
            } catch (const std::length_error& e) {
                say("line ", number, ": too big to send: ", e.what());
            }
        }
        input_done = true;
    });
    reader.detach();  // a blocked read of stdin must not keep us from exiting

    bool connected_once = false;
    bool told_disconnect = false;  // a `disconnected` line was printed: never twice
    // Prints one event; true when it ends the session (the connection is lost).
    const auto show = [&](const sprocket::Event& event) {
        if (event.kind == sprocket::EventKind::packet) {
            std::cout << sprocket::cat::packet_to_json(event.packet) << '\n';
            return false;
        }
        if (event.kind == sprocket::EventKind::connected) connected_once = true;
        if (event.kind == sprocket::EventKind::reconnecting && connected_once) {
            // -w retries a server that is not there yet, never a connection that was up: this
            // one is lost, said as a disconnect, with the reason it was lost for.
            sprocket::Event gone = event;
            gone.kind = sprocket::EventKind::disconnected;
            link->close();
            if (!told_disconnect) say(gone);
            told_disconnect = true;
            return true;
        }
        const bool lost = event.kind == sprocket::EventKind::disconnected;
        // -w: tries while the server is not there yet are quiet; a lost connection is not retried.
        if (event.kind == sprocket::EventKind::reconnecting || (lost && waiting && !connected_once)) return false;
        if (lost && told_disconnect) return true;
        say(event);
        told_disconnect = told_disconnect || lost;
        return lost;
    };

    std::optional<std::chrono::steady_clock::time_point> quit_at;
    int status = 0;
    while (stop_requested == 0) {
        // -q counts from the end of stdin, once connected (what was read has somewhere to go).
        if (input_done && connected_once && args.quit_after && !quit_at)
            quit_at = std::chrono::steady_clock::now() +
                      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(*args.quit_after));
        if (quit_at && std::chrono::steady_clock::now() >= *quit_at) break;
        link->wait(100ms);  // wakes at once for a packet; the timeout bounds how late Ctrl-C is seen
        bool ended = false;
        for (const sprocket::Event& event : link->poll()) ended = show(event) || ended;
        if (!ended && link->status().state == sprocket::State::disconnected) {
            // The status may change before its event is queued: take the event, else say the status.
            for (const sprocket::Event& event : link->poll()) show(event);
            if (!told_disconnect) say(link->status());
            ended = true;
        }
        std::cout.flush();
        if (ended) {
            status = 1;
            break;
        }
    }
    if (refused > 0) say(refused.load(), " line(s) could not be sent");
    // Say goodbye and let what is queued leave (at most `linger`) before the process ends.
    link->close();
    const auto deadline = std::chrono::steady_clock::now() + args.options.linger;
    while (link->stats().send_queue > 0 && std::chrono::steady_clock::now() < deadline) {
        link->poll();
        link->wait(10ms);
    }
    std::cout.flush();
    std::_Exit(status);  // the stdin thread may still be blocked in a read: no destructors to race with it
}

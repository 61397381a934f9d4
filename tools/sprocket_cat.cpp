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
#include <charconv>
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

Prints every packet the server sends as one JSON line, and sends every JSON line from stdin
as a packet: {"key": value, ...}, "$channel": "name" for the channel, {"$bytes": "<base64>"}
for bytes. Port 4242 by default.

  --app NAME      the server's application name (default "sprocket")
  --password PW   the server's password
  -q SECONDS      quit SECONDS after stdin ends (default: keep printing until Ctrl-C)
  --help          this text
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
};

[[noreturn]] void bad(const std::string& why) {
    std::cerr << "sprocket-cat: " << why << " (see --help)\n";
    std::exit(2);
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
            args.quit_after = number<int>(value(), "seconds");
        } else if (!a.empty() && a[0] == '-') {
            bad("unknown option " + a);
        } else if (args.host.empty()) {
            const auto colon = a.rfind(':');
            args.host = a.substr(0, colon);
            if (colon != std::string::npos) args.port = number<std::uint16_t>(std::string_view(a).substr(colon + 1), "port");
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

    std::optional<std::chrono::steady_clock::time_point> quit_at;
    int status = 0;
    while (stop_requested == 0) {
        if (input_done && args.quit_after && !quit_at)
            quit_at = std::chrono::steady_clock::now() + std::chrono::seconds(static_cast<int>(*args.quit_after));
        if (quit_at && std::chrono::steady_clock::now() >= *quit_at) break;
        link->wait(100ms);  // wakes at once for a packet; the timeout bounds how late Ctrl-C is seen
        for (const sprocket::Event& event : link->poll()) {
            if (event.kind == sprocket::EventKind::packet) {
                std::cout << sprocket::cat::packet_to_json(event.packet) << '\n';
            } else {
                say(event);
            }
        }
        std::cout.flush();
        const auto state = link->status();
        if (state.state == sprocket::State::disconnected) {
            say(state);
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

// sprocket-relay: a Servo that passes on every packet it receives, so game prototypes can talk
// to each other without writing a server first.
//
//   sprocket-relay --port 4242          relay: each packet goes to every OTHER client
//   sprocket-relay --port 0 --echo      echo: each packet goes back to its sender; port picked by the OS
//   sprocket-relay --max-frame-size 64MiB   packets up to 64 MiB (default 1 MiB)
//
// The first line on stdout is `listening on HOST:PORT` (the port actually bound, useful with
// --port 0), then one line per join and leave: `joined client 3 (127.0.0.1:50123)`,
// `left client 3: closed by peer (...)`, and one per connection refused before it joined:
// `refused 127.0.0.1:50124: rejected (wrong password)`. Every line is flushed at once, so a script or a test
// can follow it through a pipe. Ctrl-C or SIGTERM: a goodbye (`server_shutdown`) to every
// client, `shutting down`, exit status 0. Exit status 1: cannot listen. Exit status 2: bad
// arguments (one line on stderr).

#include <sprocket/servo.hpp>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::chrono_literals;

/// The --help text; the defaults shown are the library's.
std::string usage_text() {
    const sprocket::ServoOptions defaults;
    return "usage: sprocket-relay [--port N] [--host ADDR] [--echo] [--password PW] [--max-clients N]\n"
           "                      [--max-frame-size BYTES] [--app NAME] [--help]\n"
           "\n"
           "Relays every packet a client sends to all the other clients (or, with --echo, back to\n"
           "its sender only). Packets keep their channel.\n"
           "\n"
           "  --port N         the port to listen on (default 4242; 0: any free port)\n"
           "  --host ADDR      the address to listen on (default " + defaults.host + "; 0.0.0.0: every interface)\n"
           "  --echo           send each packet back to its sender instead of relaying it\n"
           "  --password PW    the password clients must present (default: none)\n"
           "  --max-clients N  clients beyond N are rejected with \"server full\" (default " +
           std::to_string(defaults.max_clients) + ")\n"
           "  --max-frame-size BYTES\n"
           "                   the largest packet a client may send, and so relay (default " +
           std::to_string(defaults.max_frame_size >> 20) + "MiB, at most 4GiB - 1); a number of bytes\n"
           "                   or with a suffix: 64KiB, 64MiB, 1GiB (x1024), 64KB, 64MB (x1000).\n"
           "                   Clients need as large a max_frame_size to receive such packets\n"
           "  --app NAME       the application name clients must use (default \"" + defaults.application + "\")\n"
           "  --help           this text\n"
           "\n"
           "The first line printed is `listening on HOST:PORT`; then joins and leaves, one per line.\n"
           "Ctrl-C or SIGTERM says goodbye to every client and exits with status 0. Exit status 1:\n"
           "cannot listen; 2: bad arguments.\n";
}

/// What the command line asked for.
struct Settings {
    std::uint16_t port = 4242;
    bool echo = false;
    bool help = false;
    sprocket::ServoOptions servo;
};

/// A bad command line: the message is printed on one line and the exit status is 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Set by the signal handler, read by the main loop: nothing else happens in the handler.
volatile std::sig_atomic_t stop_requested = 0;

void request_stop(int) { stop_requested = 1; }

/// A whole decimal number in [min, max], or a UsageError naming the option.
template <class Int>
Int parse_number(std::string_view option, std::string_view text, Int min, Int max) {
    unsigned long long value = 0;
    const char* const end = text.data() + text.size();
    const auto [ptr, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc() || ptr != end || value < static_cast<unsigned long long>(min) ||
        value > static_cast<unsigned long long>(max)) {
        throw UsageError(std::string(option) + " needs a whole number from " + std::to_string(min) + " to " +
                         std::to_string(max) + ", got '" + std::string(text) + "'");
    }
    return static_cast<Int>(value);
}

/// A size in bytes: digits and an optional unit (B, KB, KiB, MB, MiB, GB, GiB), in [1, max].
std::size_t parse_size(std::string_view option, std::string_view text, std::uint64_t max) {
    const auto bad = [&] {
        return UsageError(std::string(option) + " needs a size in bytes from 1 to " + std::to_string(max) +
                          " (e.g. 65536, 64KiB, 64MiB), got '" + std::string(text) + "'");
    };
    std::uint64_t number = 0;
    const char* const end = text.data() + text.size();
    const auto [ptr, error] = std::from_chars(text.data(), end, number);
    if (ptr == text.data() || error != std::errc()) throw bad();
    const std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
    struct Unit {
        std::string_view name;
        std::uint64_t bytes;
    };
    constexpr Unit units[] = {{"", 1},           {"B", 1},           {"KB", 1000},       {"KiB", 1024},
                              {"MB", 1000000},   {"MiB", 1u << 20},  {"GB", 1000000000}, {"GiB", 1u << 30}};
    const auto found = std::find_if(std::begin(units), std::end(units), [&](const Unit& u) { return u.name == unit; });
    if (found == std::end(units)) throw bad();
    if (number == 0 || number > max / found->bytes) throw bad();
    return static_cast<std::size_t>(number * found->bytes);
}

Settings parse_arguments(const std::vector<std::string_view>& args) {
    Settings settings;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view option = args[i];
        std::string_view inline_value;
        bool has_inline_value = false;
        if (const auto eq = option.find('='); option.rfind("--", 0) == 0 && eq != std::string_view::npos) {
            inline_value = option.substr(eq + 1);
            option = option.substr(0, eq);
            has_inline_value = true;
        }
        // The value of an option that takes one: `--port 4242` or `--port=4242`.
        auto value = [&]() -> std::string_view {
            if (has_inline_value) return inline_value;
            if (i + 1 >= args.size()) throw UsageError(std::string(option) + " needs a value");
            return args[++i];
        };
        auto no_value = [&] {
            if (has_inline_value) throw UsageError(std::string(option) + " takes no value");
        };

        if (option == "--help" || option == "-h") {
            no_value();
            settings.help = true;
        } else if (option == "--echo") {
            no_value();
            settings.echo = true;
        } else if (option == "--port") {
            settings.port = parse_number<std::uint16_t>(option, value(), 0, std::numeric_limits<std::uint16_t>::max());
        } else if (option == "--host") {
            settings.servo.host = std::string(value());
            if (settings.servo.host.empty()) throw UsageError("--host needs an address");
        } else if (option == "--password") {
            settings.servo.password = std::string(value());
        } else if (option == "--max-clients") {
            settings.servo.max_clients = parse_number<std::size_t>(option, value(), 1, 1'000'000);
        } else if (option == "--max-frame-size") {
            settings.servo.max_frame_size = parse_size(option, value(), std::numeric_limits<std::uint32_t>::max());
            // A packet that size must fit in a client's send queue to be relayed.
            settings.servo.max_send_queue =
                std::max(settings.servo.max_send_queue, 2 * settings.servo.max_frame_size + 64);
        } else if (option == "--app") {
            settings.servo.application = std::string(value());
            if (settings.servo.application.empty()) throw UsageError("--app needs a name");
        } else {
            throw UsageError("unknown argument '" + std::string(args[i]) + "'");
        }
    }
    return settings;
}

/// Passes one received packet on: to everyone else, or back to its sender.
void pass_on(sprocket::Servo& server, const sprocket::Event& event, bool echo) {
    try {
        if (echo) server.send(event.client, event.packet);
        else server.sendall_except(event.client, event.packet);
    } catch (const std::length_error& e) {
        // Only if the packet re-encodes larger than it arrived: drop it, keep relaying.
        std::cout << "dropped a packet from client " << event.client << ": " << e.what() << std::endl;
    }
}

/// Serves until a signal asks to stop. The Servo's destructor, at the end of this scope, says
/// goodbye to every client and lets the goodbyes leave (at most `linger`).
void serve(const Settings& settings) {
    sprocket::Servo server(settings.port, settings.servo);
    std::cout << "listening on " << settings.servo.host << ':' << server.port() << std::endl;
    while (stop_requested == 0) {
        // Wakes as soon as something arrives; the timeout only bounds how late a signal is seen.
        server.wait(100ms);
        for (const sprocket::Event& event : server.poll()) {
            if (event.kind == sprocket::EventKind::packet) pass_on(server, event, settings.echo);
            else std::cout << event << std::endl;  // joined / left, with the reason
        }
        // Connections that never joined: bad handshakes, wrong passwords, garbage, silence.
        for (const sprocket::Refusal& r : server.refused()) {
            std::cout << "refused " << r.address << ':' << r.port << ": " << to_string(r.reason);
            if (!r.detail.empty()) std::cout << " (" << r.detail << ')';
            std::cout << std::endl;
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    Settings settings;
    try {
        settings = parse_arguments(std::vector<std::string_view>(argv + 1, argv + argc));
    } catch (const UsageError& e) {
        std::cerr << "sprocket-relay: " << e.what() << " (see --help)" << std::endl;
        return 2;
    }
    if (settings.help) {
        std::cout << usage_text() << std::flush;
        return 0;
    }

    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
    std::signal(SIGPIPE, SIG_IGN);  // a closed stdout must not kill the server

    try {
        serve(settings);
    } catch (const std::invalid_argument& e) {  // options the Servo refuses, e.g. a 300-byte password
        std::cerr << "sprocket-relay: " << e.what() << " (see --help)" << std::endl;
        return 2;
    } catch (const std::runtime_error& e) {  // e.g. "servo: cannot listen on 127.0.0.1:4242 (address already in use)"
        std::cerr << "sprocket-relay: " << e.what() << std::endl;
        return 1;
    }
    std::cout << "shutting down" << std::endl;
    return 0;
}

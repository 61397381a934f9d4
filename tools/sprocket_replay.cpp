// sprocket-replay: plays a recording (ConnectionOptions::record, SPROCKET_RECORD) back into a
// server or a client, at the recorded pace or faster, to reproduce a bug or drive a test.
//
//   sprocket-replay client.rec --to 127.0.0.1:4242      what a client sent, into a server
//   sprocket-replay server.rec --listen 4242            what a server sent, to clients that join
//   sprocket-replay show match.rec                      a recording as JSON lines
//
// What is played and when is in tools/replay.hpp. With --listen the first line on stdout is
// `listening on HOST:PORT`; with --print (and `show`) stdout has one JSON line per record:
// {"at": seconds, "kind": "sent", "client": 1, "packet": {...}} (tools/json_packet.hpp).
// Joins, leaves and the summary go to stderr. Exit status: 0 when everything was played,
// 1 when the recording cannot be read or a connection fails (one line on stderr), 2 bad arguments,
// 3 when the replay ran to its end but skipped packets (no such client, or refused).
#include "json_packet.hpp"
#include "replay.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace sprocket;
using replay::Clock;

const char* const usage = R"(usage: sprocket-replay FILE --to HOST:PORT [options]   replay a client recording into a server
       sprocket-replay FILE --listen PORT [options]    replay a server recording to clients that join
       sprocket-replay show FILE                       print a recording as JSON lines

Plays back the packets the recorded endpoint sent, at the recorded pace.

  --speed X        X times the recorded pace (default 1; 2 = twice as fast)
  --fast           as fast as possible, still in order
  --as ROLE        client or server: the part to play. The recorded role (the default) replays
                   what the endpoint sent; the other one replays what it received (its peer's part)
  --to HOST:PORT   the server to connect to (playing a client)
  -w SECONDS       with --to: while the server is not there yet (just started), keep trying
                   to connect for about SECONDS (default: give up at once)
  --listen PORT    the port to listen on, 0 for any free one (playing a server); the first line
                   printed is `listening on HOST:PORT`; the replay starts when a client joins, the
                   Nth client to join stands for the Nth one recorded
  --host ADDR      the address to listen on (default 127.0.0.1)
  --app NAME       the application name (default: the recording's)
  --password PW    the password to present (client) or to require (server)
  --print          print each packet as it is played, as a JSON line
  --help           this text

Exit status: 0 all played; 1 the recording cannot be read, or a connection failed; 2 bad arguments;
3 played to the end, but some packets were skipped (no such client, or refused).
)";

/// A bad command line: the message is printed on one line and the exit status is 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Settings {
    bool show = false;
    std::string file;
    std::optional<std::string> to_host;
    std::uint16_t to_port = 4242;
    std::optional<std::uint16_t> listen;
    std::string host = "127.0.0.1";
    double speed = 1;  // 0: as fast as possible
    std::optional<RecordRole> as;
    std::optional<std::string> app;
    std::string password;
    bool print = false;
    double connect_wait = 0;  // -w: seconds to keep trying to connect
};

/// Exit status 3: the replay ran to its end but some packets were skipped.
constexpr int exit_skipped = 3;

volatile std::sig_atomic_t stop_requested = 0;
extern "C" void request_stop(int) { stop_requested = 1; }

void say(const std::string& line) { std::cerr << "sprocket-replay: " << line << std::endl; }

std::uint16_t port_number(std::string_view text, std::string_view what) {
    unsigned value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value > 65535)
        throw UsageError(std::string(what) + " needs a port from 0 to 65535, got '" + std::string(text) + "'");
    return static_cast<std::uint16_t>(value);
}

double speed_number(const std::string& text) {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(value) || value <= 0)
        throw UsageError("--speed needs a number above 0, got '" + text + "'");
    return value;
}

Settings parse(const std::vector<std::string>& args) {
    Settings s;
    bool fast = false;
    bool speed_given = false;
    std::vector<std::string> positional;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) throw UsageError(a + " needs a value");
            return args[++i];
        };
        if (a == "--help" || a == "-h") {
            std::cout << usage;
            std::exit(0);
        } else if (a == "--to") {
            const std::string& where = value();
            const auto colon = where.rfind(':');
            s.to_host = where.substr(0, colon);
            if (colon != std::string::npos) s.to_port = port_number(std::string_view(where).substr(colon + 1), "--to");
            if (s.to_host->empty()) throw UsageError("--to needs HOST[:PORT]");
        } else if (a == "--listen") {
            s.listen = port_number(value(), "--listen");
        } else if (a == "--host") {
            s.host = value();
        } else if (a == "--speed") {
            s.speed = speed_number(value());
            speed_given = true;
        } else if (a == "--fast") {
            fast = true;
        } else if (a == "--as") {
            const std::string& role = value();
            if (role == "client") s.as = RecordRole::client;
            else if (role == "server") s.as = RecordRole::server;
            else throw UsageError("--as needs client or server, got '" + role + "'");
        } else if (a == "--app") {
            s.app = value();
        } else if (a == "--password") {
            s.password = value();
        } else if (a == "-w") {
            const std::string& text = value();
            char* end = nullptr;
            s.connect_wait = std::strtod(text.c_str(), &end);
            if (text.empty() || *end != '\0' || !std::isfinite(s.connect_wait) || s.connect_wait < 0 || s.connect_wait > 1e6)
                throw UsageError("-w needs a number of seconds, got '" + text + "'");
        } else if (a == "--print") {
            s.print = true;
        } else if (!a.empty() && a[0] == '-') {
            throw UsageError("unknown option " + a);
        } else {
            positional.push_back(a);
        }
    }
    if (fast && speed_given) throw UsageError("--fast and --speed do not go together");
    if (fast) s.speed = 0;
    if (!positional.empty() && positional[0] == "show") {
        s.show = true;
        positional.erase(positional.begin());
    }
    if (positional.empty()) throw UsageError("which recording? FILE");
    if (positional.size() > 1) throw UsageError("unexpected '" + positional[1] + "'");
    s.file = positional[0];
    if (s.to_host && s.listen) throw UsageError("--to (play a client) or --listen (play a server), not both");
    if (s.connect_wait > 0 && s.listen) throw UsageError("-w goes with --to (a server to wait for)");
    return s;
}

std::string iso_time(std::int64_t unix_us) {
    const std::time_t seconds = static_cast<std::time_t>(unix_us / 1'000'000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    char micros[16];
    std::snprintf(micros, sizeof micros, ".%06lldZ", static_cast<long long>(unix_us % 1'000'000));
    return std::string(text) + micros;
}

std::string header_json(const RecordingHeader& header, std::size_t records) {
    nlohmann::ordered_json line = {{"version", header.version},
                                   {"role", to_string(header.role)},
                                   {"application", header.application},
                                   {"started", iso_time(header.started_unix_us)},
                                   {"records", records}};
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string record_json(const Record& r) {
    nlohmann::ordered_json line = {{"at", std::chrono::duration<double>(r.at).count()},
                                   {"kind", to_string(r.kind)},
                                   {"client", r.client}};
    if (r.kind == RecordKind::sent || r.kind == RecordKind::received)
        line["packet"] = nlohmann::ordered_json::parse(cat::packet_to_json(r.packet));
    if (r.kind == RecordKind::left) line["reason"] = to_string(r.reason);
    if (!r.detail.empty()) line["detail"] = r.detail;
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void print_record(const Record& r) { std::cout << record_json(r) << std::endl; }

int show(const Recording& recording) {
    std::cout << header_json(recording.header, recording.records.size()) << '\n';
    for (const Record& r : recording.records) std::cout << record_json(r) << '\n';
    std::cout.flush();
    if (recording.error) {
        say(recording.error->what());
        return 1;
    }
    return 0;
}

std::string summary(std::size_t sent, std::size_t skipped, Clock::time_point since) {
    std::ostringstream line;
    line << "replayed " << sent << " packet(s)";
    if (skipped > 0) line << ", skipped " << skipped << " (no such client, or refused)";
    line << " in " << std::fixed << std::setprecision(3) << std::chrono::duration<double>(Clock::now() - since).count()
         << " s";
    return line.str();
}

int play_client(const Settings& s, const RecordingHeader& header, replay::Script script) {
    SprocketOptions options;
    options.application = s.app.value_or(header.application);
    options.password = s.password;
    if (s.connect_wait > 0) {  // -w: a refused connect is tried again every 100 ms, for about that long
        options.reconnect = true;
        options.reconnect_delay = 100ms;
        options.reconnect_max_delay = 100ms;
        options.reconnect_attempts = std::max(1, static_cast<int>(std::ceil(s.connect_wait * 10)));
    }
    replay::ClientReplay player(std::move(script), s.speed, *s.to_host, s.to_port, options);
    if (s.print) player.on_play = print_record;
    const Clock::time_point start = Clock::now();
    // Connection events go to stderr; false once a connection failed (said why, once).
    std::set<ClientId> connected;  // the connections (by recorded client) that were welcomed
    const auto healthy = [&] {
        std::optional<std::string> lost;
        for (const auto& [recorded, event] : player.poll()) {
            if (event.kind == EventKind::connected) connected.insert(recorded);
            // -w: tries while the server is not there yet are quiet; a lost connection is not
            // retried. A disconnect is said below, once.
            // (With -w a lost connection shows as `reconnecting`: the next attempt is not made.)
            const bool gone = event.kind == EventKind::disconnected || event.kind == EventKind::reconnecting;
            if (gone && connected.count(recorded) > 0 && !lost)
                lost = to_string(event.reason) + (event.detail.empty() ? "" : " (" + event.detail + ")");
            if (event.kind == EventKind::packet || event.kind == EventKind::disconnected ||
                event.kind == EventKind::reconnecting)
                continue;
            say(to_string(event));
        }
        const auto why = player.failure();
        if (why) say("disconnected: " + *why);
        else if (lost) say("disconnected: " + *lost);
        return !why && !lost;
    };
    player.start(start);
    while (stop_requested == 0) {
        const Clock::time_point next = player.play(Clock::now());
        if (!healthy()) return 1;
        if (player.done()) break;
        player.wait_until(next);
    }
    // What is queued leaves before the goodbyes (a slow server gets `timeout` to take it).
    const Clock::time_point deadline = Clock::now() + options.timeout;
    while (stop_requested == 0 && player.queued() > 0 && Clock::now() < deadline) {
        if (!healthy()) return 1;
        player.wait_until(Clock::now() + 10ms);
    }
    if (!healthy()) return 1;
    player.close();
    say(summary(player.sent(), player.skipped(), start));
    if (stop_requested != 0 && !player.done()) return 1;
    return player.skipped() > 0 ? exit_skipped : 0;
}

std::size_t queued_for_clients(const Servo& server) {
    std::size_t bytes = 0;
    for (const ClientInfo& c : server.clients()) bytes += c.stats.send_queue;
    return bytes;
}

int play_server(const Settings& s, const RecordingHeader& header, replay::Script script) {
    ServoOptions options;
    options.host = s.host;
    options.application = s.app.value_or(header.application);
    options.password = s.password;
    Servo server(*s.listen, options);
    std::cout << "listening on " << options.host << ':' << server.port() << std::endl;
    replay::ServerReplay player(std::move(script), s.speed, options.max_send_queue);
    if (s.print) player.on_play = print_record;
    Clock::time_point start{};
    while (stop_requested == 0 && !player.done()) {
        const Clock::time_point now = Clock::now();
        for (const Event& event : server.poll()) {
            player.on_event(event, now);
            if (event.kind != EventKind::packet) say(to_string(event));
        }
        if (player.started() && start == Clock::time_point{}) start = now;
        const Clock::time_point next = std::min(player.play(server, now), now + 100ms);
        if (player.done()) break;
        server.wait(std::chrono::ceil<std::chrono::milliseconds>(std::max(next - Clock::now(), Clock::duration::zero())));
    }
    const Clock::time_point deadline = Clock::now() + options.timeout;
    while (stop_requested == 0 && queued_for_clients(server) > 0 && Clock::now() < deadline) {
        server.poll();
        server.wait(10ms);
    }
    say(summary(player.sent(), player.skipped(), start == Clock::time_point{} ? Clock::now() : start));
    if (stop_requested != 0 && !player.done()) return 1;
    return player.skipped() > 0 ? exit_skipped : 0;  // the Servo's destructor says goodbye to every client
}

}  // namespace

int main(int argc, char** argv) {
    Settings settings;
    try {
        settings = parse(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const UsageError& e) {
        std::cerr << "sprocket-replay: " << e.what() << " (see --help)" << std::endl;
        return 2;
    }
    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
    std::signal(SIGPIPE, SIG_IGN);

    Recording recording;
    try {
        recording = read_recording(settings.file);
    } catch (const RecordingError& e) {
        say(e.what());
        return 1;
    }
    if (settings.show) return show(recording);
    if (recording.error) say(std::string(recording.error->what()) + "; replaying the records before it");

    const RecordRole as = settings.as.value_or(recording.header.role);
    if (as == RecordRole::client && !settings.to_host) {
        std::cerr << "sprocket-replay: playing a client needs --to HOST:PORT (this is a " << recording.header.role
                  << " recording; --as server --listen PORT plays the server) (see --help)" << std::endl;
        return 2;
    }
    if (as == RecordRole::server && !settings.listen) {
        std::cerr << "sprocket-replay: playing a server needs --listen PORT (this is a " << recording.header.role
                  << " recording; --as client --to HOST:PORT plays its clients) (see --help)" << std::endl;
        return 2;
    }
    replay::Script script = replay::make_script(recording, as);
    try {
        if (as == RecordRole::client) return play_client(settings, recording.header, std::move(script));
        return play_server(settings, recording.header, std::move(script));
    } catch (const std::invalid_argument& e) {  // options an endpoint refuses, e.g. a 300-byte password
        std::cerr << "sprocket-replay: " << e.what() << " (see --help)" << std::endl;
        return 2;
    } catch (const std::runtime_error& e) {  // cannot listen
        say(e.what());
        return 1;
    }
}

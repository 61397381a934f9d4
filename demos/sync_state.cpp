// demo_sync_state: sync player state each tick, the way a real-time game does. Each client moves
// its own player and sends its position every tick; 30 times a second the server sends every
// player's position to everyone on the "state" channel; each client keeps only the newest state.
//
// Run it, in two or more terminals:
//   build/bin/demo_sync_state server [PORT] [--ticks N]     (PORT defaults to 4242)
//   build/bin/demo_sync_state client 127.0.0.1 4242 [--ticks N]
// With --ticks N a side stops after N ticks (30 ticks = 1 second); without, Ctrl-C stops it.
//
// What it teaches: a steady fixed-rate tick loop (sleep_until, never drifting), `sendall` of
// a snapshot on a channel (`Packet::on("state", ...)`), `latest()` to keep only the newest
// snapshot (older ones are stale anyway), and joins/leaves through `on(...)` callbacks.

#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int ticks_per_second = 30;
constexpr Clock::duration tick_period = std::chrono::duration_cast<Clock::duration>(1s) / ticks_per_second;

constexpr const char* usage =
    "usage: demo_sync_state server [PORT] [--ticks N] | demo_sync_state client HOST PORT [--ticks N]";

struct Position {
    double x = 0;
    double y = 0;
};

/// A fixed-rate loop: runs `tick(n)` for n = 1, 2, ... every tick_period, until `tick` returns
/// false or `ticks` ticks ran (0 = forever). sleep_until a deadline that advances by exactly one
/// period keeps the rate steady however long each tick took.
template <class Tick>
void tick_loop(long ticks, Tick&& tick) {
    auto next = Clock::now();
    for (long n = 1; ticks == 0 || n <= ticks; ++n) {
        if (!tick(n)) return;
        next += tick_period;
        // Fell far behind (the machine was suspended, a debugger stopped us): don't race to
        // catch up, start counting again from now.
        if (Clock::now() - next > 1s) next = Clock::now();
        std::this_thread::sleep_until(next);
    }
}

std::optional<long> parse_number(std::string_view text, long max) {
    long value = 0;
    const auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || ptr != text.data() + text.size() || value < 0 || value > max)
        return std::nullopt;
    return value;
}

// --- the server --------------------------------------------------------------------------------

int run_server(std::uint16_t port, long ticks) {
    sprocket::Servo server(port);
    std::cout << "sync_state server on 127.0.0.1:" << server.port() << ", " << ticks_per_second
              << " ticks a second" << std::endl;

    std::map<sprocket::ClientId, Position> players;
    // Joins and leaves run these from inside get(), on this thread.
    server.on(sprocket::EventKind::joined, [&](const sprocket::Event& e) {
        players[e.client] = Position{};
        std::cout << e << std::endl;
    });
    server.on(sprocket::EventKind::left, [&](const sprocket::Event& e) {
        players.erase(e.client);
        std::cout << e << std::endl;
    });

    tick_loop(ticks, [&](long tick) {
        // Joins and leaves first (their callbacks run in get()); packets on any other channel
        // are not part of this game: dropped. get() leaves the "move" packets to latest().
        server.get();
        // Only the newest "move" of each client matters: latest() drops the older ones.
        for (const sprocket::Message& m : server.latest("move")) {
            const auto it = players.find(m.client);
            if (it == players.end()) continue;  // it left in the meantime
            // try_get never throws: a peer's packet cannot crash the server.
            it->second.x = m.packet.try_get<double>("x").value_or(it->second.x);
            it->second.y = m.packet.try_get<double>("y").value_or(it->second.y);
        }

        sprocket::List list;
        for (const auto& [id, pos] : players) list.emplace_back(sprocket::Map{{"id", id}, {"x", pos.x}, {"y", pos.y}});
        auto state = sprocket::Packet::on("state", {{"tick", tick}});
        state["players"] = std::move(list);
        server.sendall(state);  // encoded once, queued for every client

        if (tick % ticks_per_second == 0) std::cout << "tick " << tick << ": players " << players.size() << std::endl;
        return true;
    });
    std::cout << "stopping after " << ticks << " ticks" << std::endl;
    return 0;  // ~Servo says goodbye to every client
}

// --- the client --------------------------------------------------------------------------------

void print_state(long tick, sprocket::ClientId me, const std::optional<sprocket::Packet>& state) {
    std::cout << "tick " << tick << ": ";
    if (!state) {
        std::cout << "no state from the server yet" << std::endl;
        return;
    }
    std::cout << "server tick " << state->get_or("tick", 0L);
    for (const sprocket::Value& v : state->get_or("players", sprocket::List{})) {
        const auto* player = v.get_if<sprocket::Map>();
        if (!player) continue;
        const auto id = player->get_or("id", sprocket::ClientId{0});
        std::cout << (id == me ? ", me (client " : ", client ") << id << (id == me ? ")" : "") << " at ("
                  << player->get_or("x", 0.0) << ", " << player->get_or("y", 0.0) << ')';
    }
    std::cout << std::endl;
}

int run_client(const std::string& host, std::uint16_t port, long ticks) {
    sprocket::Sprocket client(host, port);
    std::cout << std::fixed << std::setprecision(1);

    std::optional<sprocket::Packet> seen;  // the newest state received
    std::optional<int> ended;               // the exit status, once the connection is over
    tick_loop(ticks, [&](long tick) {
        const sprocket::Status now = client.status();
        if (now.state == sprocket::State::disconnected) {
            std::cout << now << std::endl;  // `disconnected: server shutdown (server shutting down)`
            ended = now.reason == sprocket::CloseReason::server_shutdown ? 0 : 1;
            return false;
        }
        if (client.connected()) {
            // Our player runs in a circle; where it starts depends on our id.
            const double angle = 0.05 * static_cast<double>(tick) + static_cast<double>(client.id());
            client.send(sprocket::Packet::on("move", {{"x", 100 + 50 * std::cos(angle)}, {"y", 100 + 50 * std::sin(angle)}}));
        }
        // Several states may have arrived since the last tick; only the newest one counts.
        if (auto state = client.latest("state")) seen = std::move(state);
        if (tick % ticks_per_second == 0) print_state(tick, client.id(), seen);
        return true;
    });
    if (ended) return *ended;
    if (ticks % ticks_per_second != 0) print_state(ticks, client.id(), seen);  // the last tick's view
    return 0;  // ~Sprocket says goodbye
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args;
    long ticks = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg != "--ticks") {
            args.push_back(arg);
            continue;
        }
        const auto n = i + 1 < argc ? parse_number(argv[++i], 1'000'000'000) : std::nullopt;
        if (!n) {
            std::cerr << usage << std::endl;
            return 2;
        }
        ticks = *n;
    }

    try {
        if (!args.empty() && args[0] == "server" && args.size() <= 2) {
            const auto port = args.size() == 2 ? parse_number(args[1], 65535) : std::optional<long>(4242);
            if (port) return run_server(static_cast<std::uint16_t>(*port), ticks);
        } else if (!args.empty() && args[0] == "client" && args.size() == 3) {
            const auto port = parse_number(args[2], 65535);
            if (port) return run_client(std::string(args[1]), static_cast<std::uint16_t>(*port), ticks);
        }
    } catch (const std::runtime_error& e) {  // e.g. "servo: cannot listen on 127.0.0.1:4242 (address already in use)"
        std::cerr << e.what() << std::endl;
        return 1;
    }
    std::cerr << usage << std::endl;
    return 2;
}

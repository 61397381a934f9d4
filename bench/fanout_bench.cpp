// bench_fanout: one server sends a 64-player state to N clients 60 times a second, as a game
// server does; sprocket next to raw TCP and ENet in the same run.
//
//   bench_fanout [--quick] [--out DIR]
//
// For N = 64, 256 and 1000 (--quick: 16), a server process waits until N clients joined, then
// ticks at 60 Hz for 5 s (--quick: 1 s): each tick it stamps CLOCK_MONOTONIC into a new state
// packet (tick number, stamp, 64 players of the reference state) and sends it to everyone. All N
// clients live in one other process; each state they take is checked (every tick, in order) and
// its age (now - stamp, one clock for both processes) recorded; the clients stop waiting 10 s
// after the last tick, and what has not arrived by then counts as lost. Both processes raise their
// descriptor limit to the hard limit. The server's CPU time (every thread, CLOCK_PROCESS_CPUTIME_ID)
// over the ticking, divided by the ticks, is its cost per tick.
//
//   sprocket  server.sendall(Packet::on("state", {{"tick", n}, {"t", stamp}, {"players", List of 64 maps}}));
//             the clients process polls each Sprocket's get() in turn, sleeping 200 us after a
//             round that found nothing (there is no wait over many Sprockets)
//   sprocket, bytes state   the same, with the 64 players as one bytes value (the raw structs)
//   raw TCP   one send(2) per client of the length-prefixed binary state (64 x 32-byte structs);
//             the clients wait in poll(2) over every socket
//   ENet      enet_host_broadcast of one reliable packet (the same binary state), one ENet host
//             (UDP socket) per client; the clients wait in poll(2) over the hosts' sockets
// sf::TcpSocket is not measured here: its SocketSelector is select()-based and stops at
// descriptor 1023.
//
// Roles:
//   bench_fanout server TRANSPORT N SECONDS   "port", "joined", waits for "go", ticks, then "ticks",
//                                             "cpu_per_tick_us", ... and waits for "stop"
//   bench_fanout clients TRANSPORT PORT N SECONDS   "connected", then "received", "age_p99_ms", ...

#include "common.hpp"
#include "net.hpp"
#include "state.hpp"

#include <sprocket/codec.hpp>
#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <memory>

namespace {

using namespace bench;

constexpr int hz = 60;
constexpr int players = 64;
const std::vector<std::string> transports{"sprocket", "sprocket, bytes state", "raw TCP", "ENet"};
// After the last tick, the clients wait at most this long for what is still on its way.
constexpr std::int64_t grace_ns = 10'000'000'000;

PlayerState player(int i) {
    PlayerState s;
    s.id = i;
    s.name = "Player " + std::to_string(i);
    s.x = 10.0f * static_cast<float>(i);
    return s;
}

sprocket::List player_list() {
    sprocket::List list;
    for (int i = 0; i < players; ++i) list.emplace_back(sprocket::Map(to_packet(player(i))));
    return list;
}

/// The binary state of raw TCP and ENet: tick, stamp, then 64 raw player states.
std::vector<std::uint8_t> binary_state(std::int64_t tick, std::int64_t stamp) {
    std::vector<std::uint8_t> body(16 + players * raw_state_size);
    std::memcpy(body.data(), &tick, 8);
    std::memcpy(body.data() + 8, &stamp, 8);
    for (int i = 0; i < players; ++i) write_raw(player(i), body.data() + 16 + i * raw_state_size);
    return body;
}

/// The server's tick loop: `send(tick, stamp)` at 60 Hz for `seconds`; reports what it cost.
/// `between(deadline)` runs until each next tick (ENet services its host there).
template <class Send, class Between>
void tick_loop(double seconds, Send&& send, Between&& between) {
    const int ticks = static_cast<int>(seconds * hz);
    const std::int64_t period = 1'000'000'000 / hz;
    std::vector<double> send_us;
    int short_ticks = 0;
    const std::int64_t cpu0 = process_cpu_ns();
    std::int64_t next = now_ns();
    for (int tick = 1; tick <= ticks; ++tick) {
        const std::int64_t stamp = now_ns();
        if (!send(tick, stamp)) ++short_ticks;
        send_us.push_back(static_cast<double>(now_ns() - stamp) / 1e3);
        next += period;
        between(next);
    }
    const std::int64_t cpu1 = process_cpu_ns();
    std::sort(send_us.begin(), send_us.end());
    report("send_p50_us", percentile(send_us, 50));
    report("send_p99_us", percentile(send_us, 99));
    report("short_ticks", short_ticks);
    report("cpu_per_tick_us", static_cast<double>(cpu1 - cpu0) / ticks / 1e3);
    report("ticks", ticks);
}

void sleep_until_tick(std::int64_t next) { sleep_until_ns(next); }

/// The server says every client joined, and starts ticking when the parent says "go" (once the
/// clients process said it is ready to receive).
void wait_for_go(std::size_t n) {
    report("joined", n);
    const auto go = parent_line(120s);
    check(go && *go == "go", "no go from the parent");
}

/// What the clients process saw. States still missing at the deadline count as infinitely old.
struct Seen {
    std::vector<std::int64_t> last_tick;  // per client
    std::vector<double> ages_ms;
    std::int64_t received = 0, out_of_order = 0, expected = 0, deadline = 0;
    std::size_t ended = 0;
    Seen(std::size_t n, double seconds)
        : last_tick(n, 0),
          expected(static_cast<std::int64_t>(n) * static_cast<int>(seconds * hz)),
          deadline(now_ns() + static_cast<std::int64_t>(seconds * 1e9) + grace_ns) {
        ages_ms.reserve(static_cast<std::size_t>(expected));
    }
    bool waiting() const { return ended < last_tick.size() && now_ns() < deadline; }
    void state(std::size_t client, std::int64_t tick, std::int64_t stamp, std::int64_t now) {
        if (tick < 0) {
            ++ended;
            return;
        }
        ages_ms.push_back(static_cast<double>(now - stamp) / 1e6);
        if (tick != last_tick[client] + 1) ++out_of_order;
        last_tick[client] = tick;
        ++received;
    }
    /// The p-th percentile over every expected state; -1 when it falls among the missing ones.
    double age(double p) const {
        const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(expected)));
        if (rank > ages_ms.size()) return -1;
        return ages_ms[rank == 0 ? 0 : rank - 1];
    }
    void report_all(double cpu_seconds) {
        std::sort(ages_ms.begin(), ages_ms.end());
        report("age_p50_ms", age(50));
        report("age_p99_ms", age(99));
        report("age_max_ms", received == expected && !ages_ms.empty() ? ages_ms.back() : -1);
        report("out_of_order", out_of_order);
        report("clients_cpu_s", cpu_seconds);
        report("received", received);
    }
};

// --- sprocket -------------------------------------------------------------------------------------

int server_sprocket(std::size_t n, double seconds, bool bytes_state) {
    sprocket::ServoOptions options;
    options.max_clients = n;
    options.max_pending = n;
    sprocket::Servo server(0, options);
    report("port", server.port());
    std::size_t joined = 0;
    for (const std::int64_t give_up = now_ns() + 120'000'000'000; joined < n && now_ns() < give_up;) {
        server.wait(100ms);
        for (const sprocket::Event& e : server.poll()) joined += e.kind == sprocket::EventKind::joined ? 1 : 0;
    }
    check(joined == n, "sprocket: only " + std::to_string(joined) + " clients joined");
    wait_for_go(n);
    // The players: 64 maps of the reference state, or (bytes state) the 64 raw structs as one bytes value.
    const sprocket::List list = player_list();
    const std::vector<std::uint8_t> raw = binary_state(0, 0);
    const sprocket::Bytes blob(raw.begin() + 16, raw.end());
    auto state = [&](std::int64_t tick, std::int64_t stamp) {
        if (bytes_state) return sprocket::Packet::on("state", {{"tick", tick}, {"t", stamp}, {"players", blob}});
        return sprocket::Packet::on("state", {{"tick", tick}, {"t", stamp}, {"players", list}});
    };
    report("state_bytes", sprocket::encode(state(1, now_ns())).size());
    tick_loop(
        seconds, [&](std::int64_t tick, std::int64_t stamp) { return server.sendall(state(tick, stamp)) == n; },
        sleep_until_tick);
    server.sendall(sprocket::Packet::on("state", {{"tick", -1}, {"t", now_ns()}}));
    parent_line(300s);
    return 0;
}

int clients_sprocket(std::uint16_t port, std::size_t n, double seconds) {
    std::vector<std::unique_ptr<sprocket::Sprocket>> clients;
    for (std::size_t i = 0; i < n; ++i) clients.push_back(std::make_unique<sprocket::Sprocket>("127.0.0.1", port));
    const std::int64_t deadline = now_ns() + 60'000'000'000;
    std::size_t up = 0;
    for (auto& c : clients) up += c->wait_connected(Millis(std::max<std::int64_t>(0, (deadline - now_ns()) / 1'000'000))) ? 1 : 0;
    check(up == n, "sprocket: " + std::to_string(up) + " of " + std::to_string(n) + " clients connected");
    report("connected", n);
    Seen seen(n, seconds);
    const double cpu0 = rusage_seconds();
    while (seen.waiting()) {
        bool any = false;
        for (std::size_t i = 0; i < n; ++i) {
            for (const sprocket::Packet& p : clients[i]->get()) {
                seen.state(i, p.get<std::int64_t>("tick"), p.get<std::int64_t>("t"), now_ns());
                any = true;
            }
        }
        if (!any) std::this_thread::sleep_for(200us);
    }
    seen.report_all(rusage_seconds() - cpu0);
    return 0;
}

// --- raw TCP --------------------------------------------------------------------------------------

int server_raw(std::size_t n, double seconds) {
    const int listener = tcp_listen_reported();
    std::vector<int> fds;
    while (fds.size() < n) {
        const int fd = tcp_accept(listener);
        check(fd >= 0, std::string("raw TCP: accept failed: ") + std::strerror(errno));
        fds.push_back(fd);
    }
    wait_for_go(n);
    std::vector<std::uint8_t> message;
    auto send = [&](std::int64_t tick, std::int64_t stamp) {
        const std::vector<std::uint8_t> body = binary_state(tick, stamp);
        message.clear();
        append_message(message, body.data(), static_cast<std::uint32_t>(body.size()));
        bool all = true;
        for (int fd : fds) all &= write_all(fd, message.data(), message.size());
        return all;
    };
    report("state_bytes", binary_state(0, 0).size());
    tick_loop(seconds, send, sleep_until_tick);
    send(-1, now_ns());
    parent_line(300s);
    for (int fd : fds) ::close(fd);
    ::close(listener);
    return 0;
}

int clients_raw(std::uint16_t port, std::size_t n, double seconds) {
    std::vector<pollfd> fds;
    for (std::size_t i = 0; i < n; ++i) {
        const int fd = tcp_connect(port);
        check(fd >= 0, std::string("raw TCP: connect failed: ") + std::strerror(errno));
        set_nonblocking(fd);
        fds.push_back(pollfd{fd, POLLIN, 0});
    }
    report("connected", n);
    std::vector<MessageReader> readers(n);
    Seen seen(n, seconds);
    const double cpu0 = rusage_seconds();
    while (seen.waiting()) {
        if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
        for (std::size_t i = 0; i < n; ++i) {
            if (fds[i].revents == 0) continue;
            for (;;) {
                const ssize_t got = readers[i].fill(fds[i].fd);
                const std::uint8_t* body = nullptr;
                std::uint32_t size = 0;
                while (readers[i].next(body, size)) {
                    std::int64_t tick = 0, stamp = 0;
                    std::memcpy(&tick, body, 8);
                    std::memcpy(&stamp, body + 8, 8);
                    seen.state(i, tick, stamp, now_ns());
                }
                if (got <= 0) break;
            }
        }
    }
    seen.report_all(rusage_seconds() - cpu0);
    for (const pollfd& p : fds) ::close(p.fd);
    return 0;
}

// --- ENet -----------------------------------------------------------------------------------------

int server_enet([[maybe_unused]] std::size_t n, [[maybe_unused]] double seconds) {
#ifdef SPROCKET_BENCH_ENET
    EnetLibrary library;
    ENetHost* host = enet_listen_reported(n + 8);
    ENetEvent event;
    std::size_t connected = 0;
    for (const std::int64_t give_up = now_ns() + 120'000'000'000; connected < n && now_ns() < give_up;) {
        if (enet_host_service(host, &event, 10) > 0 && event.type == ENET_EVENT_TYPE_CONNECT) ++connected;
    }
    check(connected == n, "ENet: only " + std::to_string(connected) + " clients connected");
    report("joined", n);
    for (std::optional<std::string> go; !go || *go != "go";) {  // ENet needs servicing meanwhile
        enet_host_service(host, &event, 10);
        go = parent_line(0ms);
        check(!go || *go == "go", "ENet: no go from the parent");
    }
    auto send = [&](std::int64_t tick, std::int64_t stamp) {
        const std::vector<std::uint8_t> body = binary_state(tick, stamp);
        enet_host_broadcast(host, 0, reliable(body.data(), body.size()));
        enet_host_flush(host);
        return true;
    };
    auto service_until = [&](std::int64_t next) {
        for (std::int64_t left; (left = next - now_ns()) > 0;) {
            if (enet_host_service(host, &event, static_cast<enet_uint32>(left / 1'000'000)) > 0 &&
                event.type == ENET_EVENT_TYPE_RECEIVE)
                enet_packet_destroy(event.packet);
        }
    };
    report("state_bytes", binary_state(0, 0).size());
    tick_loop(seconds, send, service_until);
    send(-1, now_ns());
    while (!parent_line(0ms)) service_until(now_ns() + 10'000'000);
    enet_host_destroy(host);
    return 0;
#else
    throw std::runtime_error("ENet: not installed");
#endif
}

int clients_enet([[maybe_unused]] std::uint16_t port, [[maybe_unused]] std::size_t n, [[maybe_unused]] double seconds) {
#ifdef SPROCKET_BENCH_ENET
    EnetLibrary library;
    std::vector<ENetHost*> hosts(n);
    std::vector<pollfd> fds(n);
    for (std::size_t i = 0; i < n; ++i) {
        ENetPeer* peer = nullptr;
        hosts[i] = enet_client(port, peer);
        check(hosts[i] && peer, "ENet: cannot create a client host");
        fds[i] = pollfd{static_cast<int>(hosts[i]->socket), POLLIN, 0};
    }
    ENetEvent event;
    std::size_t up = 0;
    for (const std::int64_t give_up = now_ns() + 60'000'000'000; up < n && now_ns() < give_up;) {
        for (ENetHost* h : hosts)
            while (enet_host_service(h, &event, 0) > 0) up += event.type == ENET_EVENT_TYPE_CONNECT ? 1 : 0;
        std::this_thread::sleep_for(1ms);
    }
    check(up == n, "ENet: " + std::to_string(up) + " of " + std::to_string(n) + " clients connected");
    report("connected", n);
    Seen seen(n, seconds);
    const double cpu0 = rusage_seconds();
    std::int64_t next_sweep = 0;
    while (seen.waiting()) {
        ::poll(fds.data(), fds.size(), 1);
        const bool sweep = now_ns() >= next_sweep;  // every host now and then: ENet's timers
        if (sweep) next_sweep = now_ns() + 20'000'000;
        for (std::size_t i = 0; i < n; ++i) {
            if (!sweep && fds[i].revents == 0) continue;
            while (enet_host_service(hosts[i], &event, 0) > 0) {
                if (event.type != ENET_EVENT_TYPE_RECEIVE) continue;
                std::int64_t tick = 0, stamp = 0;
                std::memcpy(&tick, event.packet->data, 8);
                std::memcpy(&stamp, event.packet->data + 8, 8);
                seen.state(i, tick, stamp, now_ns());
                enet_packet_destroy(event.packet);
            }
        }
    }
    seen.report_all(rusage_seconds() - cpu0);
    for (ENetHost* h : hosts) enet_host_destroy(h);
    return 0;
#else
    throw std::runtime_error("ENet: not installed");
#endif
}

int server(const std::string& t, std::size_t n, double seconds) {
    raise_nofile();
    if (t == "sprocket") return server_sprocket(n, seconds, false);
    if (t == "sprocket, bytes state") return server_sprocket(n, seconds, true);
    if (t == "raw TCP") return server_raw(n, seconds);
    return server_enet(n, seconds);
}

int clients(const std::string& t, std::uint16_t port, std::size_t n, double seconds) {
    raise_nofile();
    if (t == "sprocket" || t == "sprocket, bytes state") return clients_sprocket(port, n, seconds);
    if (t == "raw TCP") return clients_raw(port, n, seconds);
    return clients_enet(port, n, seconds);
}

// --- the benchmark ----------------------------------------------------------------------------------

struct Outcome {
    Cell delivered, age_p50, age_p99, cpu_per_tick;
    std::string detail;
};

int failures = 0;

Outcome measure(const std::string& transport, std::size_t n, double seconds) {
    const Cell no = Cell::none(transport == "ENet" && !have_enet ? "not installed" : "failed");
    if (transport == "ENet" && !have_enet) return {no, no, no, no, ""};
    try {
        Child srv({"server", transport, std::to_string(n), fixed(seconds, 2)});
        const std::string port = srv.expect("port", 10s);
        Child cli({"clients", transport, port, std::to_string(n), fixed(seconds, 2)});
        cli.expect("connected", 180s);
        srv.expect("joined", 60s);
        srv.tell("go");
        const double ticks = srv.number("ticks", Millis(static_cast<long>(seconds * 1000) + 60'000));
        const double received = cli.number("received", Millis(static_cast<long>(seconds * 1000) + grace_ns / 1'000'000 + 60'000));
        srv.tell("stop");
        cli.wait(30s);
        srv.wait(30s);
        const double delivered = 100.0 * received / (ticks * static_cast<double>(n));
        if (cli.number("out_of_order", 1s) != 0) ++failures;  // late is a result; reordered is a bug
        // An age of -1: that percentile falls among the states that never arrived in time.
        auto age = [&](const char* key) {
            const double ms = cli.number(key, 1s);
            return ms < 0 ? Cell::none("lost") : Cell::of(ms);
        };
        const double max_age = cli.number("age_max_ms", 1s);
        const std::string detail = transport + ", " + std::to_string(n) + " clients: state " + srv.expect("state_bytes", 1s) +
                                   " bytes; send/sendall call p50 " + num(srv.number("send_p50_us", 1s)) + " us, p99 " +
                                   num(srv.number("send_p99_us", 1s)) + " us; max age " +
                                   (max_age < 0 ? std::string("- (some lost)") : num(max_age) + " ms") +
                                   "; clients process CPU " + num(cli.number("clients_cpu_s", 1s)) + " s";
        return {Cell::of(delivered), age("age_p50_ms"), age("age_p99_ms"), Cell::of(srv.number("cpu_per_tick_us", 1s)), detail};
    } catch (const std::exception& e) {
        std::cerr << "bench_fanout: " << transport << ", " << n << " clients: " << e.what() << '\n';
        ++failures;
        return {no, no, no, no, ""};
    }
}

int run(const Options& options) {
    const double seconds = options.quick ? 1.0 : 5.0;
    const std::vector<std::size_t> sizes = options.quick ? std::vector<std::size_t>{16} : std::vector<std::size_t>{64, 256, 1000};
    Table table;
    table.title = "Fan-out: one server sends a 64-player state to N clients at 60 Hz for " + fixed(seconds, 0) +
                  " s (clients in one other process)";
    table.columns = transports;
    std::vector<std::string> details;
    for (std::size_t n : sizes) {
        std::vector<Cell> delivered, p50, p99, cpu;
        for (const std::string& t : transports) {
            std::cerr << "bench_fanout: " << t << ", " << n << " clients...\n";
            const Outcome o = measure(t, n, seconds);
            delivered.push_back(o.delivered);
            p50.push_back(o.age_p50);
            p99.push_back(o.age_p99);
            cpu.push_back(o.cpu_per_tick);
            if (!o.detail.empty()) details.push_back(o.detail);
        }
        const std::string clients = std::to_string(n) + " clients: ";
        table.add(clients + "delivered % (within 10 s of the last tick)", delivered);
        table.add(clients + "median age of a state, ms", p50);
        table.add(clients + "p99 age of a state, ms", p99);
        table.add(clients + "server CPU per tick, us", cpu);
    }
    table.notes = {
        "ratio = sprocket / that column. Age: from the server's stamp (before it builds the packet) until the client's "
        "receive loop took it; a state not there 10 s after the last tick counts as lost (infinitely old: \"lost\" when a "
        "percentile falls among those). Server CPU: all its threads (CLOCK_PROCESS_CPUTIME_ID) over the ticking / ticks.",
        "\"sprocket, bytes state\": the same 64 players as one bytes value (the raw structs) instead of 64 maps: "
        "what the codec costs, separated from the transport.",
        "sprocket's clients process polls get() on every Sprocket in turn and sleeps 200 us after an empty round; "
        "raw TCP's and ENet's wait in poll(2).",
        "sf::TcpSocket is not measured: sf::SocketSelector is select()-based (descriptors up to 1023 only).",
    };
    table.notes.insert(table.notes.end(), details.begin(), details.end());
    const bool ok = publish(options, "fanout", {table},
                            header("bench_fanout", "one server process, N clients in another, 127.0.0.1", options.quick));
    return ok && failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string which = argc > 1 ? argv[1] : "";
    if (which == "server" && argc == 5) {
        return role([&] { return server(argv[2], std::stoul(argv[3]), std::stod(argv[4])); });
    }
    if (which == "clients" && argc == 6) {
        return role([&] {
            return clients(argv[2], static_cast<std::uint16_t>(std::stoi(argv[3])), std::stoul(argv[4]), std::stod(argv[5]));
        });
    }
    signal(SIGPIPE, SIG_IGN);
    return run(parse_options(argc, argv, "usage: bench_fanout [--quick] [--out DIR]"));
}

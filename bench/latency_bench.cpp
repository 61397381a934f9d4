// bench_latency: the round trip of a small packet between two processes, sprocket next to raw
// TCP, sf::Packet and ENet, in the same run.
//
//   bench_latency [--quick] [--out DIR]
//
// For each transport a server process echoes what it receives and a client process sends the
// reference state packet (state.hpp; "id" carries a sequence number), waits for it to come back,
// checks it and sends the next: 20,000 timed round trips after 2,000 of warm-up (--quick: 500
// after 100). Each is timed on the client from before the packet is built until the echo is
// decoded. Three placements of the two processes: as the OS schedules them, both pinned to CPU 0
// ("same core"), client on CPU 0 and server on CPU 1 ("across cores").
//
// sprocket, as a game would block: the server's loop is
//     for (auto& m : server.get(200ms)) server.send(m.client, m.packet);
// and the client does `client.send(p); client.get(5s)`; a thread waiting in get(timeout) reads
// its socket itself (Reactor::lead), so each side sleeps once per round trip, as raw TCP does.
// "sprocket busy get()" spins on the non-blocking get() on both sides instead (no sleeping),
// to show what the wake-ups cost. raw TCP and sf::Packet use blocking sockets; ENet blocks in
// enet_host_service.
//
// Roles (run by the benchmark itself):
//   bench_latency serve TRANSPORT CPU                 prints "port N", echoes one client, exits
//   bench_latency ping TRANSPORT PORT COUNT WARMUP CPU  prints "median_us", "p99_us", "pct P US"...

#include "common.hpp"
#include "net.hpp"
#include "state.hpp"

#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <SFML/Network/TcpListener.hpp>
#include <SFML/Network/TcpSocket.hpp>

namespace {

using namespace bench;

const std::vector<std::string> transports{"sprocket", "sprocket busy get()", "raw TCP", "sf::Packet", "ENet"};

// --- servers: echo everything one client sends, until it leaves ----------------------------------

int serve_sprocket(bool spin) {
    sprocket::Servo server(0);
    report("port", server.port());
    bool gone = false;
    server.on(sprocket::EventKind::left, [&](const sprocket::Event&) { gone = true; });
    const std::int64_t give_up = now_ns() + 600'000'000'000;
    while (!gone && now_ns() < give_up) {
        for (sprocket::Message& m : spin ? server.get() : server.get(200ms)) server.send(m.client, m.packet);
    }
    return 0;
}

int serve_raw() {
    const int listener = tcp_listen_reported();
    const int fd = tcp_accept(listener);
    MessageReader reader;
    const std::uint8_t* body = nullptr;
    std::uint32_t size = 0;
    std::vector<std::uint8_t> out;
    while (reader.receive(fd, body, size)) {
        const PlayerState s = read_raw(body);
        std::uint8_t raw[raw_state_size];
        write_raw(s, raw);
        out.clear();
        append_message(out, raw, raw_state_size);
        if (!write_all(fd, out.data(), out.size())) break;
    }
    ::close(fd);
    ::close(listener);
    return 0;
}

int serve_sfml() {
    sf::TcpListener listener;
    sf::TcpSocket socket;
    sf_accept_reported(listener, socket);
    sf::Packet in;
    while (socket.receive(in) == sf::Socket::Done) {
        PlayerState s;
        in >> s;
        sf::Packet out;
        out << s;
        if (socket.send(out) != sf::Socket::Done) break;
    }
    return 0;
}

int serve_enet() {
#ifdef SPROCKET_BENCH_ENET
    EnetLibrary library;
    ENetHost* host = enet_listen_reported(4);
    ENetEvent event;
    const std::int64_t give_up = now_ns() + 600'000'000'000;
    for (bool done = false; !done && now_ns() < give_up;) {
        if (enet_host_service(host, &event, 200) <= 0) continue;
        if (event.type == ENET_EVENT_TYPE_RECEIVE) {
            std::uint8_t raw[raw_state_size];
            write_raw(read_raw(event.packet->data), raw);
            enet_packet_destroy(event.packet);
            enet_peer_send(event.peer, 0, reliable(raw, raw_state_size));
            enet_host_flush(host);
        } else if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
            done = true;
        }
    }
    enet_host_destroy(host);
    return 0;
#else
    throw std::runtime_error("ENet: not installed");
#endif
}

// --- clients: COUNT round trips, each checked ----------------------------------------------------

/// `total` round trips, each `echo(i)` sending state i and returning the id that came back
/// (checked against i; `who` names the transport in the error): microseconds each.
template <class Echo>
std::vector<double> timed_round_trips(int total, const char* who, Echo&& echo) {
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(total));
    for (int i = 0; i < total; ++i) {
        const std::int64_t start = now_ns();
        const int echoed = echo(i, start);
        const std::int64_t end = now_ns();
        check(echoed == i, std::string(who) + ": wrong echo");
        us.push_back(static_cast<double>(end - start) / 1e3);
    }
    return us;
}

std::vector<double> ping_sprocket(std::uint16_t port, int total, bool spin) {
    sprocket::Sprocket client("127.0.0.1", port);
    check(client.wait_connected(5s), "sprocket: not connected within 5 s");
    PlayerState state;
    return timed_round_trips(total, "sprocket", [&](int i, std::int64_t start) {
        state.id = i;
        client.send(to_packet(state));
        std::vector<sprocket::Packet> got;
        if (spin) {
            for (long n = 0; (got = client.get()).empty(); ++n)
                check(n % 4096 != 0 || now_ns() - start < 5'000'000'000, "sprocket: no echo within 5 s");
        } else {
            got = client.get(5s);
        }
        return got.size() == 1 ? got[0].get<int>("id") : -1;
    });
}

std::vector<double> ping_raw(std::uint16_t port, int total) {
    const int fd = tcp_connect(port);
    check(fd >= 0, "raw TCP: cannot connect");
    PlayerState state;
    MessageReader reader;
    std::vector<std::uint8_t> out;
    auto us = timed_round_trips(total, "raw TCP", [&](int i, std::int64_t) {
        state.id = i;
        std::uint8_t raw[raw_state_size];
        write_raw(state, raw);
        out.clear();
        append_message(out, raw, raw_state_size);
        check(write_all(fd, out.data(), out.size()), "raw TCP: send failed");
        const std::uint8_t* body = nullptr;
        std::uint32_t size = 0;
        check(reader.receive(fd, body, size), "raw TCP: connection lost");
        return size == raw_state_size ? read_raw(body).id : -1;
    });
    ::close(fd);
    return us;
}

std::vector<double> ping_sfml(std::uint16_t port, int total) {
    sf::TcpSocket socket;
    check(socket.connect(sf::IpAddress("127.0.0.1"), port, sf::seconds(5)) == sf::Socket::Done, "sf::TcpSocket: cannot connect");
    PlayerState state;
    return timed_round_trips(total, "sf::Packet", [&](int i, std::int64_t) {
        state.id = i;
        sf::Packet out;
        out << state;
        check(socket.send(out) == sf::Socket::Done, "sf::TcpSocket: send failed");
        sf::Packet in;
        check(socket.receive(in) == sf::Socket::Done, "sf::TcpSocket: receive failed");
        PlayerState echo;
        in >> echo;
        return static_cast<int>(echo.id);
    });
}

std::vector<double> ping_enet([[maybe_unused]] std::uint16_t port, [[maybe_unused]] int total) {
#ifdef SPROCKET_BENCH_ENET
    EnetLibrary library;
    ENetPeer* peer = nullptr;
    ENetHost* host = enet_client(port, peer);
    check(host && peer && enet_wait_connected(host, 5000), "ENet: not connected within 5 s");
    PlayerState state;
    ENetEvent event;
    auto us = timed_round_trips(total, "ENet", [&](int i, std::int64_t start) {
        state.id = i;
        std::uint8_t raw[raw_state_size];
        write_raw(state, raw);
        enet_peer_send(peer, 0, reliable(raw, raw_state_size));
        enet_host_flush(host);
        int echoed = -1;
        while (echoed < 0) {
            check(now_ns() - start < 5'000'000'000, "ENet: no echo within 5 s");
            if (enet_host_service(host, &event, 1000) > 0 && event.type == ENET_EVENT_TYPE_RECEIVE) {
                echoed = read_raw(event.packet->data).id;
                enet_packet_destroy(event.packet);
            }
        }
        return echoed;
    });
    enet_peer_disconnect(peer, 0);
    for (const std::int64_t until = now_ns() + 1'000'000'000; now_ns() < until;) {
        if (enet_host_service(host, &event, 50) > 0 && event.type == ENET_EVENT_TYPE_DISCONNECT) break;
    }
    enet_host_destroy(host);
    return us;
#else
    throw std::runtime_error("ENet: not installed");
#endif
}

int ping(const std::string& transport, std::uint16_t port, int count, int warmup) {
    const int total = warmup + count;
    std::vector<double> us = transport == "sprocket"              ? ping_sprocket(port, total, false)
                             : transport == "sprocket busy get()" ? ping_sprocket(port, total, true)
                             : transport == "raw TCP"             ? ping_raw(port, total)
                             : transport == "sf::Packet"          ? ping_sfml(port, total)
                                                                  : ping_enet(port, total);
    us.erase(us.begin(), us.begin() + warmup);
    std::sort(us.begin(), us.end());
    double sum = 0;
    for (double v : us) sum += v;
    for (int p = 0; p <= 100; ++p) report("pct", std::to_string(p) + " " + fixed(percentile(us, p), 2));
    report("pct", "99.9 " + fixed(percentile(us, 99.9), 2));
    report("mean_us", sum / static_cast<double>(us.size()));
    report("p99_us", percentile(us, 99));
    report("median_us", percentile(us, 50));
    return 0;
}

int serve(const std::string& transport) {
    if (transport == "sprocket") return serve_sprocket(false);
    if (transport == "sprocket busy get()") return serve_sprocket(true);
    if (transport == "raw TCP") return serve_raw();
    if (transport == "sf::Packet") return serve_sfml();
    return serve_enet();
}

// --- the benchmark ----------------------------------------------------------------------------------

struct Placement {
    std::string name;
    int client_cpu;
    int server_cpu;
};

struct Outcome {
    Cell median, p99;
    std::vector<std::string> percentiles;  // "P US"
};

int failures = 0;

Outcome measure(const std::string& transport, const Placement& where, int count, int warmup) {
    if (transport == "ENet" && !have_enet) return {Cell::none("not installed"), Cell::none("not installed"), {}};
    try {
        Child server({"serve", transport, std::to_string(where.server_cpu)});
        const std::string port = server.expect("port", 10s);
        Child client({"ping", transport, port, std::to_string(count), std::to_string(warmup),
                      std::to_string(where.client_cpu)});
        const double median = client.number("median_us", 300s);
        const double p99 = client.number("p99_us", 1s);
        client.wait(10s);
        server.wait(10s);
        return {Cell::of(median), Cell::of(p99), client.values("pct")};
    } catch (const std::exception& e) {
        std::cerr << "bench_latency: " << transport << " (" << where.name << "): " << e.what() << '\n';
        ++failures;
        return {Cell::none("failed"), Cell::none("failed"), {}};
    }
}

int run(const Options& options) {
    const int count = options.quick ? 500 : 20'000;
    const int warmup = options.quick ? 100 : 2'000;
    std::vector<Placement> placements{{"OS placement", -1, -1}, {"same core", 0, 0}};
    if (std::thread::hardware_concurrency() >= 2) placements.push_back({"across cores", 0, 1});

    Table table;
    table.title = "Round trip of the 7-key state packet, client and server processes: microseconds (" +
                  std::to_string(count) + " round trips after " + std::to_string(warmup) + " of warm-up)";
    table.columns = transports;
    std::vector<std::vector<std::string>> cdf{{"transport", "placement", "percentile", "microseconds"}};
    for (const Placement& where : placements) {
        std::vector<Cell> medians, p99s;
        for (const std::string& t : transports) {
            if (t == "sprocket busy get()" && where.client_cpu >= 0) {  // spinning threads pinned together starve each other
                medians.push_back(Cell::none("n/a, pinned"));
                p99s.push_back(Cell::none("n/a, pinned"));
                continue;
            }
            std::cerr << "bench_latency: " << t << ", " << where.name << "...\n";
            Outcome o = measure(t, where, count, warmup);
            medians.push_back(o.median);
            p99s.push_back(o.p99);
            for (const std::string& pct : o.percentiles) {
                const auto space = pct.find(' ');
                cdf.push_back({t, where.name, pct.substr(0, space), pct.substr(space + 1)});
            }
        }
        table.add("median, " + where.name, medians);
        table.add("p99, " + where.name, p99s);
    }
    table.notes = {
        "ratio = sprocket / that column (below 1: sprocket is faster).",
        "sprocket: blocking get(timeout) on both sides (the waiting thread reads its socket itself); \"sprocket busy get()\": both sides spin on get() "
        "(OS placement only: pinned, a spinning game thread shares its CPU with its own I/O thread).",
        "payloads: sprocket 7-key packet (~60 bytes + 5-byte frame header); sf::Packet positional (33 + 4 bytes); "
        "raw TCP and ENet a 32-byte struct (+4-byte length for TCP); ENet reliable, channel 0.",
        "same core: both processes pinned to CPU 0; across cores: client on CPU 0, server on CPU 1.",
    };
    write_tsv(options, "latency_cdf.tsv", cdf);
    const bool ok = publish(options, "latency", {table}, header("bench_latency", "round trip between two processes on 127.0.0.1", options.quick));
    return ok && failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string which = argc > 1 ? argv[1] : "";
    if (which == "serve" && argc == 4) {
        return role([&] { return serve(argv[2]); }, std::stoi(argv[3]));
    }
    if (which == "ping" && argc == 7) {
        return role([&] { return ping(argv[2], static_cast<std::uint16_t>(std::stoi(argv[3])), std::stoi(argv[4]), std::stoi(argv[5])); },
                    std::stoi(argv[6]));
    }
    signal(SIGPIPE, SIG_IGN);
    return run(parse_options(argc, argv, "usage: bench_latency [--quick] [--out DIR]"));
}

// bench_idle: what connected clients cost a server when nobody sends anything: resident memory
// per connection and CPU time, sprocket next to raw TCP, sf::TcpSocket and ENet.
//
//   bench_idle [--quick] [--out DIR]
//
// A server process listens and reads its resident memory (/proc/self/statm); a clients process
// connects 256 clients (--quick: 16); once all are in, the server waits 2 s (heartbeats start),
// reads its resident memory again, and (after - before) / 256 is the memory per connection. Then
// it stays idle for 10 s (--quick: 1 s) and getrusage gives its CPU time (every thread) as % of
// one core. How each server idles:
//   sprocket    the main thread blocks in server.wait(1s), and runs the I/O loop while it
//               waits (heartbeats every second each way, by default)
//   raw TCP     poll(2) over every socket
//   sf::TcpSocket   sf::SocketSelector::wait over the listener and every socket
//   ENet        enet_host_service(host, &event, 1000) (pings every 500 ms); its peer table is
//               allocated when the host is created, before the first measurement
//
// Roles:
//   bench_idle server TRANSPORT N SECONDS   "port", then "kib_per_connection", "cpu_percent", "still_connected"
//   bench_idle clients TRANSPORT PORT N     "connected", then idles until "stop"

#include "common.hpp"
#include "net.hpp"

#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <SFML/Network/SocketSelector.hpp>
#include <SFML/Network/TcpListener.hpp>
#include <SFML/Network/TcpSocket.hpp>

#include <list>
#include <memory>

namespace {

using namespace bench;

const std::vector<std::string> transports{"sprocket", "raw TCP", "sf::TcpSocket", "ENet"};

/// The server's side of the measurement: memory before, `connect()` until all are in, memory
/// after, then `idle(deadline)` for the idle time and its CPU.
template <class Connect, class Idle, class Count>
void measure_server(std::size_t n, double seconds, Connect&& connect, Idle&& idle, Count&& still_connected) {
    const std::int64_t before = resident_bytes();
    connect();
    idle(now_ns() + 2'000'000'000);  // settle: handshakes done, first heartbeats
    const std::int64_t after = resident_bytes();
    const double cpu0 = rusage_seconds();
    const std::int64_t start = now_ns();
    idle(start + static_cast<std::int64_t>(seconds * 1e9));
    const double cpu = rusage_seconds() - cpu0;
    const double wall = static_cast<double>(now_ns() - start) / 1e9;
    report("rss_before_kib", before / 1024);
    report("rss_after_kib", after / 1024);
    report("still_connected", still_connected());
    report("cpu_percent", 100.0 * cpu / wall);
    report("kib_per_connection", static_cast<double>(after - before) / 1024.0 / static_cast<double>(n));
}

// --- servers ----------------------------------------------------------------------------------------

int server_sprocket(std::size_t n, double seconds) {
    sprocket::ServoOptions options;
    options.max_clients = n;
    options.max_pending = n;
    sprocket::Servo server(0, options);
    report("port", server.port());
    measure_server(
        n, seconds,
        [&] {
            for (const std::int64_t give_up = now_ns() + 120'000'000'000; server.clients().size() < n && now_ns() < give_up;)
                std::this_thread::sleep_for(10ms);
            check(server.clients().size() == n, "sprocket: not every client joined");
        },
        [&](std::int64_t until) {
            while (now_ns() < until) {
                if (server.wait(std::min(1000ms, Millis((until - now_ns()) / 1'000'000 + 1)))) server.poll();
            }
        },
        [&] { return server.clients().size(); });
    parent_line(300s);
    return 0;
}

int server_raw(std::size_t n, double seconds) {
    const int listener = tcp_listen_reported();
    std::vector<pollfd> fds;
    measure_server(
        n, seconds,
        [&] {
            while (fds.size() < n) {
                const int fd = tcp_accept(listener);
                check(fd >= 0, "raw TCP: accept failed");
                fds.push_back(pollfd{fd, POLLIN, 0});
            }
        },
        [&](std::int64_t until) {
            for (std::int64_t left; (left = until - now_ns()) > 0;) {
                if (::poll(fds.data(), fds.size(), static_cast<int>(left / 1'000'000 + 1)) > 0) {
                    for (pollfd& p : fds)
                        if (p.revents != 0) p.fd = -p.fd - 1;  // closed or unexpected data: stop watching
                }
            }
        },
        [&] { return std::count_if(fds.begin(), fds.end(), [](const pollfd& p) { return p.fd >= 0; }); });
    parent_line(300s);
    return 0;
}

int server_sfml(std::size_t n, double seconds) {
    sf::TcpListener listener;
    sf_listen_reported(listener);
    std::list<sf::TcpSocket> sockets;
    sf::SocketSelector selector;
    std::size_t lost = 0;
    measure_server(
        n, seconds,
        [&] {
            while (sockets.size() < n) {
                sockets.emplace_back();
                check(listener.accept(sockets.back()) == sf::Socket::Done, "sf: accept failed");
                selector.add(sockets.back());
            }
        },
        [&](std::int64_t until) {
            for (std::int64_t left; (left = until - now_ns()) > 0;) {
                if (!selector.wait(sf::microseconds(left / 1000))) continue;
                for (sf::TcpSocket& s : sockets) {
                    if (!selector.isReady(s)) continue;
                    char byte;
                    std::size_t got = 0;
                    if (s.receive(&byte, 1, got) != sf::Socket::Done) {
                        selector.remove(s);
                        ++lost;
                    }
                }
            }
        },
        [&] { return sockets.size() - lost; });
    parent_line(300s);
    return 0;
}

int server_enet([[maybe_unused]] std::size_t n, [[maybe_unused]] double seconds) {
#ifdef SPROCKET_BENCH_ENET
    EnetLibrary library;
    ENetHost* host = enet_listen_reported(n + 8);
    std::size_t connected = 0;
    ENetEvent event;
    auto service_until = [&](std::int64_t until) {
        for (std::int64_t left; (left = until - now_ns()) > 0;) {
            if (enet_host_service(host, &event, static_cast<enet_uint32>(std::min<std::int64_t>(left / 1'000'000, 1000))) <= 0)
                continue;
            if (event.type == ENET_EVENT_TYPE_CONNECT) ++connected;
            if (event.type == ENET_EVENT_TYPE_DISCONNECT) --connected;
            if (event.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(event.packet);
        }
    };
    measure_server(
        n, seconds,
        [&] {
            for (const std::int64_t give_up = now_ns() + 120'000'000'000; connected < n && now_ns() < give_up;)
                service_until(now_ns() + 10'000'000);
            check(connected == n, "ENet: not every client connected");
        },
        service_until, [&] { return connected; });
    while (!parent_line(0ms)) service_until(now_ns() + 10'000'000);
    enet_host_destroy(host);
    return 0;
#else
    throw std::runtime_error("ENet: not installed");
#endif
}

// --- clients: connect, then idle until "stop" ------------------------------------------------------

int clients_sprocket(std::uint16_t port, std::size_t n) {
    std::vector<std::unique_ptr<sprocket::Sprocket>> clients;
    for (std::size_t i = 0; i < n; ++i) clients.push_back(std::make_unique<sprocket::Sprocket>("127.0.0.1", port));
    for (auto& c : clients) check(c->wait_connected(30s), "sprocket: a client did not connect");
    report("connected", n);
    parent_line(300s);
    return 0;
}

int clients_raw(std::uint16_t port, std::size_t n) {
    std::vector<int> fds;
    for (std::size_t i = 0; i < n; ++i) {
        fds.push_back(tcp_connect(port));
        check(fds.back() >= 0, "raw TCP: cannot connect");
    }
    report("connected", n);
    parent_line(300s);
    for (int fd : fds) ::close(fd);
    return 0;
}

int clients_sfml(std::uint16_t port, std::size_t n) {
    std::list<sf::TcpSocket> sockets;
    for (std::size_t i = 0; i < n; ++i) {
        sockets.emplace_back();
        check(sockets.back().connect(sf::IpAddress("127.0.0.1"), port, sf::seconds(5)) == sf::Socket::Done, "sf: cannot connect");
    }
    report("connected", n);
    parent_line(300s);
    return 0;
}

int clients_enet([[maybe_unused]] std::uint16_t port, [[maybe_unused]] std::size_t n) {
#ifdef SPROCKET_BENCH_ENET
    EnetLibrary library;
    std::vector<ENetHost*> hosts(n);
    for (ENetHost*& h : hosts) {
        ENetPeer* peer = nullptr;
        h = enet_client(port, peer);
        check(h && peer, "ENet: cannot create a client host");
    }
    ENetEvent event;
    std::size_t up = 0;
    for (const std::int64_t give_up = now_ns() + 60'000'000'000; up < n && now_ns() < give_up;) {
        for (ENetHost* h : hosts)
            while (enet_host_service(h, &event, 0) > 0) up += event.type == ENET_EVENT_TYPE_CONNECT ? 1 : 0;
        std::this_thread::sleep_for(1ms);
    }
    check(up == n, "ENet: not every client connected");
    report("connected", n);
    while (!parent_line(10ms))  // ENet answers pings only when serviced
        for (ENetHost* h : hosts)
            while (enet_host_service(h, &event, 0) > 0) {
            }
    for (ENetHost* h : hosts) enet_host_destroy(h);
    return 0;
#else
    throw std::runtime_error("ENet: not installed");
#endif
}

int server(const std::string& t, std::size_t n, double seconds) {
    raise_nofile();
    if (t == "sprocket") return server_sprocket(n, seconds);
    if (t == "raw TCP") return server_raw(n, seconds);
    if (t == "sf::TcpSocket") return server_sfml(n, seconds);
    return server_enet(n, seconds);
}

int clients(const std::string& t, std::uint16_t port, std::size_t n) {
    raise_nofile();
    if (t == "sprocket") return clients_sprocket(port, n);
    if (t == "raw TCP") return clients_raw(port, n);
    if (t == "sf::TcpSocket") return clients_sfml(port, n);
    return clients_enet(port, n);
}

// --- the benchmark ----------------------------------------------------------------------------------

struct Outcome {
    Cell kib, cpu, alive;
};

int failures = 0;

Outcome measure(const std::string& transport, std::size_t n, double seconds) {
    if (transport == "ENet" && !have_enet) {
        const Cell no = Cell::none("not installed");
        return {no, no, no};
    }
    try {
        Child srv({"server", transport, std::to_string(n), fixed(seconds, 2)});
        const std::string port = srv.expect("port", 10s);
        Child cli({"clients", transport, port, std::to_string(n)});
        cli.expect("connected", 120s);
        const double kib = srv.number("kib_per_connection", Millis(static_cast<long>(seconds * 1000) + 60'000));
        const double cpu = srv.number("cpu_percent", 1s);
        const double alive = srv.number("still_connected", 1s);
        if (alive != static_cast<double>(n)) ++failures;
        cli.tell("stop");
        srv.tell("stop");
        cli.wait(30s);
        srv.wait(30s);
        return {Cell::of(kib), Cell::of(cpu), Cell::of(alive)};
    } catch (const std::exception& e) {
        std::cerr << "bench_idle: " << transport << ": " << e.what() << '\n';
        ++failures;
        const Cell no = Cell::none("failed");
        return {no, no, no};
    }
}

int run(const Options& options) {
    const std::size_t n = options.quick ? 16 : 256;
    const double seconds = options.quick ? 1.0 : 10.0;
    Table table;
    table.title = "Cost at rest: a server with " + std::to_string(n) + " connected, idle clients (clients in another process)";
    table.columns = transports;
    std::vector<Cell> kib, cpu, alive;
    for (const std::string& t : transports) {
        std::cerr << "bench_idle: " << t << "...\n";
        const Outcome o = measure(t, n, seconds);
        kib.push_back(o.kib);
        cpu.push_back(o.cpu);
        alive.push_back(o.alive);
    }
    table.add("resident memory per idle connection, KiB", kib);
    table.add("CPU over " + fixed(seconds, 0) + " s idle, % of one core", cpu);
    table.add("connections still up afterwards", alive);
    table.notes = {
        "ratio = sprocket / that column. Memory: (RSS after the clients joined and 2 s passed - RSS while listening) / " +
            std::to_string(n) + ", from /proc/self/statm; kernel socket buffers are not in it.",
        "CPU: getrusage(RUSAGE_SELF) user + system of the server process, every thread, over the idle time.",
        "sprocket and ENet exchange heartbeats (sprocket: every 1 s each way; ENet: pings every 500 ms); raw TCP and "
        "sf::TcpSocket send nothing at all.",
    };
    const bool ok = publish(options, "idle", {table}, header("bench_idle", "one server process, clients in another, 127.0.0.1", options.quick));
    return ok && failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string which = argc > 1 ? argv[1] : "";
    if (which == "server" && argc == 5) {
        return role([&] { return server(argv[2], std::stoul(argv[3]), std::stod(argv[4])); });
    }
    if (which == "clients" && argc == 5) {
        return role([&] { return clients(argv[2], static_cast<std::uint16_t>(std::stoi(argv[3])), std::stoul(argv[4])); });
    }
    signal(SIGPIPE, SIG_IGN);
    return run(parse_options(argc, argv, "usage: bench_idle [--quick] [--out DIR]"));
}

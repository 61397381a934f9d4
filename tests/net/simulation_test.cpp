// The network simulator (Simulation, SPROCKET_SIM): latency, jitter, bandwidth and stalls on
// 127.0.0.1, with ordering and completeness kept.
#include "helpers.hpp"
#include "raw_peer.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

using namespace nettest;
using sprocket::Packet;
using sprocket::Simulation;

namespace {

using Millis = std::chrono::milliseconds;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// A server that sends every packet back to its sender, from the test's thread.
struct Echo {
    sprocket::Servo server{0, quick_server()};
    // Echoes what has arrived; true if anything was.
    bool turn(Millis wait) {
        auto messages = server.get(wait);
        for (auto& m : messages) server.send(m.client, m.packet);
        return !messages.empty();
    }
};

// One packet there and back through `echo`, timed by the test (ms); -1 when it never came.
double round_trip(Echo& echo, sprocket::Sprocket& client, int seq) {
    const auto start = Clock::now();
    REQUIRE(client.send(Packet{{"seq", seq}}));
    while (ms_since(start) < patience.count()) {
        echo.turn(Millis(1));
        for (auto& p : client.get()) {
            if (p.get<int>("seq") == seq) return ms_since(start);
        }
    }
    return -1;
}

sprocket::SprocketOptions simulated(const std::string& text) {
    auto options = quick_client();
    options.simulate = Simulation::parse(text);
    return options;
}

Packet on(const std::string& channel, Packet packet) {
    packet.set_channel(channel);
    return packet;
}

// A big packet on "assets" through a client's simulated link, then small packets on "state"
// every 10 ms while it is on its way: when each arrived at the server, and the big one.
struct BulkRace {
    std::vector<double> sent;      // ms since the big packet was sent
    std::vector<double> arrived;   // the same; -1: never
    double big = -1;
    std::size_t queued = 0;        // the client's send_queue right after the first state packet

    // State packets are sent until the big packet arrives, at most `states` of them.
    void run(sprocket::Servo& server, sprocket::Sprocket& client, std::size_t big_size, std::size_t states) {
        const auto start = Clock::now();
        REQUIRE(client.send(on("assets", Packet{{"blob", sprocket::Bytes(big_size, 0x42)}})));
        const auto deadline = start + patience;
        std::size_t received = 0;
        while ((big < 0 || received < sent.size()) && Clock::now() < deadline) {
            const bool sending = big < 0 && sent.size() < states;
            if (sending && ms_since(start) >= 10.0 * static_cast<double>(sent.size())) {
                REQUIRE(client.send(on("state", Packet{{"seq", static_cast<int>(sent.size())}})));
                sent.push_back(ms_since(start));
                arrived.push_back(-1);
                if (sent.size() == 1) queued = client.stats().send_queue;
            }
            // A bounded wait for input: until the next 10 ms mark while sending, else a while.
            const auto mark = start + Millis(10 * sent.size());
            const auto wait = sending ? std::chrono::ceil<Millis>(mark - Clock::now()) : Millis(20);
            for (auto& m : server.get(std::max(wait, Millis(1)))) {
                if (m.packet.channel() == "assets") {
                    big = ms_since(start);
                    continue;
                }
                const auto seq = static_cast<std::size_t>(m.packet.get<int>("seq"));
                REQUIRE(seq < arrived.size());
                arrived[seq] = ms_since(start);
                ++received;
            }
        }
        MESSAGE("big packet after " << big << " ms; " << sent.size() << " state packets, " << before_big()
                                    << " arrived before it; worst wait " << worst() << " ms");
    }
    std::size_t before_big() const {
        std::size_t n = 0;
        for (double a : arrived) n += a >= 0 && a < big;
        return n;
    }
    double worst() const {
        double most = 0;
        for (std::size_t i = 0; i < sent.size(); ++i) most = std::max(most, arrived[i] < 0 ? 1e9 : arrived[i] - sent[i]);
        return most;
    }
};

struct EnvironmentVariable {
    explicit EnvironmentVariable(const char* value) { ::setenv("SPROCKET_SIM", value, 1); }
    ~EnvironmentVariable() { ::unsetenv("SPROCKET_SIM"); }
};

}  // namespace

TEST_CASE("simulation settings are parsed, printed back and refused with the setting named") {
    const auto sim = Simulation::parse("latency=100ms, jitter=0.02s bandwidth=64KB stall=500ms/10s seed=7");
    CHECK(sim.latency == Millis(100));
    CHECK(sim.jitter == Millis(20));
    CHECK(sim.bandwidth == 64000);
    CHECK(sim.stall == Millis(500));
    CHECK(sim.stall_every == Millis(10000));
    CHECK(sim.seed == 7);
    CHECK(sim.active());
    CHECK(Simulation::parse(sim.to_string()).to_string() == sim.to_string());
    CHECK(Simulation::parse("bandwidth=2mbit").bandwidth == 250000);
    CHECK(Simulation::parse("latency=150").latency == Millis(150));
    CHECK_FALSE(Simulation::parse("").active());
    CHECK(Simulation{}.to_string().empty());

    auto refused = [](const char* text) {
        try {
            Simulation::parse(text);
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK(refused("latncy=100ms").find("unknown setting \"latncy\"") != std::string::npos);
    CHECK(refused("latency=100us").find("unknown unit \"us\"") != std::string::npos);
    CHECK(refused("latency=fast").find("latency needs a time") != std::string::npos);
    CHECK(refused("latency=-5ms").find("between 0 and 1 hour") != std::string::npos);
    CHECK(refused("bandwidth=10parsecs").find("unknown unit") != std::string::npos);
    CHECK(refused("bandwidth=0").find("at least 1 byte") != std::string::npos);
    CHECK(refused("stall=500ms").find("FOR/EVERY") != std::string::npos);
    CHECK(refused("stall=2s/1s").find("EVERY longer than FOR") != std::string::npos);
    CHECK(refused("latency").find("name=value") != std::string::npos);
}

TEST_CASE("a bad SPROCKET_SIM makes the endpoint's constructor throw, naming the variable") {
    const EnvironmentVariable sim("latency=lots");
    try {
        sprocket::Servo server(0, quick_server());
        FAIL("the server accepted SPROCKET_SIM=latency=lots");
    } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()).find("SPROCKET_SIM") != std::string::npos);
    }
}

TEST_CASE("SPROCKET_SIM latency shows in the measured round trip and rtt()") {
    Echo echo;
    const EnvironmentVariable sim("latency=100ms");  // read when the client is made
    sprocket::Sprocket client("127.0.0.1", echo.server.port(), quick_client());
    REQUIRE(connect(client));
    std::vector<double> trips;
    for (int i = 0; i < 5; ++i) trips.push_back(round_trip(echo, client, i));
    std::sort(trips.begin(), trips.end());
    CHECK(trips.front() >= 100.0);  // never faster than the simulated link
    CHECK(trips[2] < 100.0 + 150.0);  // the median: slack for a busy machine, far below 2 x 100 ms
    // Heartbeats every 50 ms see the same delay.
    CHECK(until(client, [&] { return client.rtt() >= Millis(100); }));
    CHECK(client.rtt() < Millis(250));
}

TEST_CASE("jitter never reorders or loses a packet, in either direction") {
    Echo echo;
    sprocket::Sprocket client("127.0.0.1", echo.server.port(), simulated("latency=20ms jitter=40ms"));
    REQUIRE(connect(client));
    constexpr int count = 2000;
    for (int i = 0; i < count; ++i) REQUIRE(client.send(Packet{{"seq", i}}));
    std::vector<int> back;
    const auto deadline = Clock::now() + patience;
    while (back.size() < count && Clock::now() < deadline) {
        echo.turn(Millis(1));
        for (auto& p : client.get()) back.push_back(p.get<int>("seq"));
    }
    REQUIRE(back.size() == count);
    for (int i = 0; i < count; ++i) REQUIRE(back[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("a bandwidth cap spreads bytes out over time, and queued bytes count as unsent") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), simulated("bandwidth=100KB"));
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));
    constexpr int count = 40;
    const sprocket::Bytes filler(1000, 0x5a);
    const auto start = Clock::now();
    for (int i = 0; i < count; ++i) REQUIRE(client.send(Packet{{"seq", i}, {"filler", filler}}));
    CHECK(client.stats().send_queue > 20'000);  // most of 40 kB is still on the slow link
    const auto got = receive(server, count);
    const double took = ms_since(start);
    REQUIRE(got.size() == count);
    for (int i = 0; i < count; ++i) CHECK(got[static_cast<std::size_t>(i)].packet.get<int>("seq") == i);
    CHECK(took >= 350.0);  // 40 kB at 100 kB/s is 400 ms; the first 2 kB piece leaves at once
}

TEST_CASE("a slow simulated link overflows a small send queue like a slow real one") {
    sprocket::Servo server(0, quick_server());
    auto options = simulated("bandwidth=1KB");
    options.max_send_queue = 16 << 10;
    sprocket::Sprocket client("127.0.0.1", server.port(), options);
    REQUIRE(connect(client));
    const sprocket::Bytes filler(1000, 1);
    bool refused = false;
    for (int i = 0; i < 40 && !refused; ++i) refused = !client.send(Packet{{"filler", filler}});
    CHECK(refused);
    const auto left = next_event(client, sprocket::EventKind::disconnected);
    CHECK(left.reason == sprocket::CloseReason::queue_overflow);
}

TEST_CASE("a stall holds everything back for its length, then the stream goes on") {
    Echo echo;
    sprocket::Sprocket client("127.0.0.1", echo.server.port(), simulated("stall=400ms/1s"));
    REQUIRE(connect(client));
    // Ping-pong for 1.5 s: one round trip must run into the stall that closes the first second.
    std::vector<double> trips;
    const auto start = Clock::now();
    for (int i = 0; ms_since(start) < 1500.0; ++i) {
        const double trip = round_trip(echo, client, i);
        REQUIRE(trip >= 0);
        trips.push_back(trip);
    }
    std::sort(trips.begin(), trips.end());
    CHECK(trips.back() >= 200.0);                    // waited out (part of) a stall
    CHECK(trips[trips.size() / 2] < 100.0);          // most round trips are quick
    CHECK(client.status().state == sprocket::State::connected);
}

TEST_CASE("what a closing server sent before its goodbye arrives first, however late") {
    auto options = quick_server();
    sprocket::Servo server(0, options);
    sprocket::Sprocket client("127.0.0.1", server.port(), simulated("latency=300ms"));
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));
    for (int i = 0; i < 10; ++i) server.sendall(Packet{{"seq", i}});
    server.kick(server.clients().at(0).id, "that's all");
    std::vector<sprocket::Event> seen;
    REQUIRE(pump_until(client, seen, last_is(sprocket::EventKind::disconnected)));
    std::vector<int> got;
    for (const auto& e : seen) {
        if (e.kind == sprocket::EventKind::packet) got.push_back(e.packet.get<int>("seq"));
    }
    INFO(seen.back().detail);
    CHECK(got.size() == 10);
    CHECK(seen.back().reason == sprocket::CloseReason::kicked);
    CHECK(seen.back().detail.find("that's all") != std::string::npos);
}

TEST_CASE("under a slow bandwidth cap, other channels and heartbeats pass a big packet") {
    // The 64 KB/s link with a 500 KB packet (~8 s), scaled down: 256 KB/s and 768 KB, ~3 s.
    sprocket::Servo server(0, quick_server());
    auto options = simulated("bandwidth=256KB");
    options.heartbeat_interval = Millis(200);  // few samples: a late one would weigh heavily
    sprocket::Sprocket client("127.0.0.1", server.port(), options);
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));
    BulkRace race;
    race.run(server, client, 768'000, 30);
    REQUIRE(race.big >= 0);
    CHECK(race.big >= 2500.0);           // the cap still holds the big packet back
    CHECK(race.queued > 500'000);        // and what waits for the link counts as unsent
    REQUIRE(race.sent.size() == 30);
    REQUIRE(race.arrived.front() >= 0);
    CHECK(race.arrived.front() - race.sent.front() < 500.0);  // not behind the whole big packet
    CHECK(race.before_big() == race.sent.size());
    CHECK(race.worst() < 1000.0);
    // Heartbeats went through meanwhile: after a packet sent now makes the round trip, every
    // pong answered before it has been measured, and none waited behind the big packet.
    REQUIRE(client.send(on("state", Packet{{"last", true}})));
    const auto last = receive(server, 1);
    REQUIRE(last.size() == 1);
    server.send(last.front().client, last.front().packet);
    REQUIRE(receive(client, 1).size() == 1);
    MESSAGE("rtt " << client.rtt().count() << " us, server's view " << server.clients().at(0).rtt.count() << " us");
    CHECK(client.rtt() < Millis(300));
    CHECK(server.clients().at(0).rtt < Millis(300));
}

TEST_CASE("under a fast bandwidth cap, packets sent during a 16 MiB transfer arrive before it") {
    auto server_options = quick_server();
    server_options.max_frame_size = 32 << 20;
    server_options.max_receive_queue = 64 << 20;
    sprocket::Servo server(0, server_options);
    auto options = simulated("bandwidth=20MB");
    options.max_frame_size = 32 << 20;
    options.max_send_queue = 64 << 20;
    sprocket::Sprocket client("127.0.0.1", server.port(), options);
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));
    BulkRace race;
    race.run(server, client, std::size_t{16} << 20, 400);  // ~840 ms on the link
    REQUIRE(race.big >= 0);
    CHECK(race.big >= 700.0);
    REQUIRE(race.sent.size() >= 20);
    // Those sent in the last few ms may arrive just behind its last piece; the rest before it.
    CHECK(race.before_big() >= race.sent.size() * 8 / 10);
    CHECK(race.worst() < 300.0);
}

TEST_CASE("a simulated link whose peer stops reading waits for the socket, without spinning") {
    RawListener listener;
    auto options = simulated("bandwidth=50MB");
    options.max_send_queue = 64 << 20;
    options.timeout = 60s;  // the raw peer below never sends a heartbeat
    sprocket::Sprocket client("127.0.0.1", listener.port(), options);
    RawPeer peer;  // welcomes the client, then reads nothing
    welcome(peer, listener, 1);
    REQUIRE(connect(client));
    const Packet chunk{{"data", sprocket::Bytes(100'000, 9)}};
    for (int i = 0; i < 200; ++i) REQUIRE(client.send(chunk));  // 20 MB: far more than the socket holds
    // The socket is full once the queue stops shrinking (bounded waits of 100 ms).
    std::size_t queued = client.stats().send_queue;
    REQUIRE(until(client, [&] {
        const std::size_t now = client.stats().send_queue;
        const bool stuck = now == queued;
        queued = now;
        return stuck;
    }));
    REQUIRE(queued > 0);
    auto cpu = [] {
        timespec t{};
        ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
        return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;  // ms
    };
    const double cpu_before = cpu();
    const auto start = Clock::now();
    until(client, [&] { return ms_since(start) >= 1000.0; });  // the process should idle meanwhile
    const double used = cpu() - cpu_before;
    const double wall = ms_since(start);
    MESSAGE("cpu " << used << " ms in " << wall << " ms");
    CHECK(used < 0.3 * wall);
    CHECK(client.connected());
}

TEST_CASE("a server on a simulated latency welcomes within about that latency") {
    auto server_options = sprocket::ServoOptions();  // default heartbeats: 1 s
    server_options.simulate.latency = std::chrono::milliseconds(100);
    sprocket::Servo server(0, server_options);
    sprocket::Sprocket client("127.0.0.1", server.port(), sprocket::SprocketOptions());
    const auto t0 = Clock::now();
    REQUIRE(client.wait_connected(patience));
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    CHECK(took < 500);
}

// Channels read with latest(), and a channel the game never reads: the queue it fills is told
// (event, status, stats) instead of freezing the connection silently.
#include "helpers.hpp"

#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace std::chrono_literals;
using sprocket::EventKind;
using sprocket::Packet;
using namespace nettest;

namespace {

// A server and a client whose receive queue fills at 16 KiB (a few hundred small packets), so a
// stall shows up fast.
// The same the other way: a server whose receive queue fills at 16 KiB, and one client joined.
struct SmallQueueServer {
    sprocket::Servo server{0, options()};
    sprocket::Sprocket client;
    SmallQueueServer() : client("127.0.0.1", server.port(), quick_client()) {
        REQUIRE(connect(client));
        REQUIRE(until_clients(server, 1));
    }
    static sprocket::ServoOptions options() {
        auto o = quick_server();
        o.max_receive_queue = 16 << 10;
        return o;
    }
};

struct SmallQueue {
    sprocket::Servo server{0, quick_server()};
    sprocket::Sprocket net;
    SmallQueue() : net("127.0.0.1", server.port(), options()) { REQUIRE(connect(net)); }
    static sprocket::SprocketOptions options() {
        auto o = quick_client();
        o.max_receive_queue = 16 << 10;
        return o;
    }
};


}  // namespace

TEST_CASE("get() then latest(\"state\") each frame: the state arrives, get() leaves it to latest") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket net("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(net));
    long newest = 0;
    std::vector<std::string> others;
    long sent = 0;
    const auto deadline = Clock::now() + patience;
    // The game loop of the README, in the order a newcomer writes it: get() first. The server
    // sends a state and a chat line every frame.
    while (newest < 50 && Clock::now() < deadline) {
        ++sent;
        server.sendall(Packet::on("state", {{"tick", sent}}));
        server.sendall(Packet::on("chat", {{"n", sent}}));
        for (Packet& p : net.get()) others.push_back(p.channel());
        if (auto s = net.latest("state")) newest = s->get<long>("tick");
        net.wait(5ms);
    }
    CHECK(newest >= 50);
    // After the first latest("state"), get() took no state packet: only chat.
    std::size_t states_in_get = 0;
    for (std::size_t i = 2; i < others.size(); ++i) states_in_get += others[i] == "state";
    CHECK(states_in_get == 0);
    CHECK(others.size() >= 40);
}

TEST_CASE("a channel the game never reads: a stalled event names it, status and stats say so") {
    SmallQueue setup;
    sprocket::Servo& server = setup.server;
    sprocket::Sprocket& net = setup.net;
    std::vector<sprocket::Event> stalls;
    net.on(EventKind::stalled, [&](const sprocket::Event& e) { stalls.push_back(e); });

    // Server: a state and an effect each tick; the client reads only latest("state").
    long tick = 0;
    const auto deadline = Clock::now() + patience;
    while (stalls.empty() && Clock::now() < deadline) {
        ++tick;
        server.sendall(Packet::on("state", {{"tick", tick}}));
        server.sendall(Packet::on("fx", {{"spark", tick}, {"pad", std::string(200, 'x')}}));
        net.latest("state");
        net.wait(2ms);
    }
    REQUIRE(stalls.size() == 1);
    CHECK(stalls[0].detail.find("on channel \"fx\"") != std::string::npos);
    CHECK(stalls[0].detail.find("receive queue full") != std::string::npos);
    const sprocket::Stats stats = net.stats();
    CHECK(stats.receive_paused);
    CHECK(stats.stalled_channel == "fx");
    CHECK(stats.stalled_packets > 10);
    CHECK(net.status().stalled == stalls[0].detail);
    CHECK(net.status().state == sprocket::State::connected);

    // Reading "fx" frees the connection: the state flows again and the stall is over.
    const long before = tick;
    long newest = 0;
    const auto again = Clock::now() + patience;
    while (newest <= before && Clock::now() < again) {
        ++tick;
        server.sendall(Packet::on("state", {{"tick", tick}}));
        net.get("fx");
        if (auto s = net.latest("state")) newest = s->get<long>("tick");
        net.wait(2ms);
    }
    CHECK(newest > before);
    CHECK(net.status().stalled.empty());
    CHECK(net.stats().stalled_channel.empty());
    CHECK(stalls.size() == 1);
}

TEST_CASE("a server that reads only latest(\"input\") is told which client's channel holds its queue") {
    SmallQueueServer setup;
    sprocket::Servo& server = setup.server;
    sprocket::Sprocket& client = setup.client;
    sprocket::Event stall;
    server.on(EventKind::stalled, [&](const sprocket::Event& e) { stall = e; });
    const auto deadline = Clock::now() + patience;
    while (stall.kind != EventKind::stalled && Clock::now() < deadline) {
        client.send(Packet::on("input", {{"keys", 3}}));
        client.send(Packet::on("chat", {{"text", std::string(200, 'y')}}));
        server.latest("input");  // the stalled event comes with it: the callback runs here
        server.wait(2ms);
    }
    REQUIRE(stall.kind == EventKind::stalled);
    CHECK(stall.client == client.id());
    CHECK(stall.detail.find("\"chat\"") != std::string::npos);
    const auto clients = server.clients();
    REQUIRE(clients.size() == 1);
    CHECK(clients[0].stats.stalled_channel == "chat");
}

TEST_CASE("a game slower than its peer that reads everything is paused now and then, never stalled") {
    auto server_options = quick_server();
    server_options.max_receive_queue = 8 << 10;
    sprocket::Servo server(0, server_options);
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
    int stalls = 0;
    server.on(EventKind::stalled, [&](const sprocket::Event&) { ++stalls; });
    const Packet chunk = Packet::on("bulk", {{"data", std::string(1000, 'z')}});
    constexpr int total = 3000;
    for (int i = 0; i < total; ++i) client.send(chunk);
    std::size_t got = 0;
    const auto deadline = Clock::now() + patience;
    while (got < total && Clock::now() < deadline) got += server.get(50ms).size();
    CHECK(got == total);
    CHECK(stalls == 0);
}

// README: "From its first call on, get() (and poll()) leave "state" packets to it, so the two
// lines work in either order", and a stall is "a channel the game never reads". A game that
// reads every channel each frame, after one long frame (a level load, a window drag, a
// breakpoint) that let the receive queue fill, is told its "state" channel stalled: the first
// take of the frame (get()) leaves the state for the next line (latest("state")), the I/O thread
// looks at once, sees the pause older than 250 ms and a take made, and reports a stall.
TEST_CASE("one long frame, then get() and latest(\"state\") each frame: no stalled event") {
    SmallQueue setup;
    sprocket::Servo& server = setup.server;
    sprocket::Sprocket& net = setup.net;
    std::vector<std::string> stalls;
    net.on(EventKind::stalled, [&](const sprocket::Event& e) { stalls.push_back(e.detail); });
    net.latest("state");  // the game's loop reads the state with latest()

    // The long frame: the server sends 200 ticks (about 100 KB of state); the game reads nothing.
    constexpr long ticks = 200;
    for (long tick = 1; tick <= ticks; ++tick) {
        server.sendall(Packet::on("state", {{"tick", tick}, {"pad", std::string(500, 's')}}));
        server.sendall(Packet::on("chat", {{"n", tick}}));
    }
    REQUIRE(poll_until([&] { return net.stats().receive_paused; }));
    const auto paused_at = Clock::now();
    poll_until([&] { return Clock::now() - paused_at >= 300ms; }, 1s);  // the frame goes on

    // Then the game loop, reading every channel: get() for the events, latest() for the state.
    long newest = 0;
    std::size_t chats = 0;
    const auto deadline = Clock::now() + patience;
    while ((newest < ticks || chats < static_cast<std::size_t>(ticks)) && Clock::now() < deadline) {
        chats += net.get().size();
        // The game applies what get() gave it (a few ms of work in a real frame): here at most
        // 50 ms, ended as soon as a stall is reported.
        poll_until([&] { return !net.status().stalled.empty(); }, 50ms);
        if (auto s = net.latest("state")) newest = s->get<long>("tick");
        net.wait(5ms);
    }
    CHECK(newest == ticks);
    CHECK(chats == static_cast<std::size_t>(ticks));
    CHECK_MESSAGE(stalls.empty(), "false stall: ", (stalls.empty() ? std::string() : stalls.front()));
}

// Same on a server reading per channel: get("input") then get("chat"), after one long frame.
TEST_CASE("Servo reading get(\"input\") then get(\"chat\") after one long frame: no stalled event") {
    SmallQueueServer setup;
    sprocket::Servo& server = setup.server;
    sprocket::Sprocket& client = setup.client;
    std::vector<std::string> stalls;
    server.on(EventKind::stalled, [&](const sprocket::Event& e) { stalls.push_back(e.detail); });
    constexpr int sent = 200;
    for (int i = 0; i < sent; ++i) {
        client.send(Packet::on("input", {{"keys", i}}));
        client.send(Packet::on("chat", {{"text", std::string(500, 'c')}}));
    }
    REQUIRE(poll_until([&] {
        const auto c = server.clients();
        return !c.empty() && c[0].stats.receive_paused;
    }));
    const auto paused_at = Clock::now();
    poll_until([&] { return Clock::now() - paused_at >= 300ms; }, 1s);

    std::size_t inputs = 0, chats = 0;
    const auto deadline = Clock::now() + patience;
    while ((inputs < sent || chats < sent) && Clock::now() < deadline) {
        inputs += server.get("input").size();
        poll_until([&] { return !stalls.empty(); }, 50ms);  // callbacks only run in takes; see below
        poll_until([&] {
            const auto c = server.clients();
            return !c.empty() && !c[0].stats.stalled_channel.empty();
        }, 50ms);
        chats += server.get("chat").size();
        server.wait(5ms);
    }
    CHECK(inputs == static_cast<std::size_t>(sent));
    CHECK(chats == static_cast<std::size_t>(sent));
    CHECK_MESSAGE(stalls.empty(), "false stall: ", (stalls.empty() ? std::string() : stalls.front()));
}

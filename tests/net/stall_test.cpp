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
    sprocket::Servo server(0, quick_server());
    auto options = quick_client();
    options.max_receive_queue = 16 << 10;
    sprocket::Sprocket net("127.0.0.1", server.port(), options);
    REQUIRE(connect(net));
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
    auto server_options = quick_server();
    server_options.max_receive_queue = 16 << 10;
    sprocket::Servo server(0, server_options);
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));
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

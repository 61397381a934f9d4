// Channels read with latest(): order with events per peer, and no false stall after a long frame
// (a level load) in a game that reads every channel. Found by review of c027131.
#include "helpers.hpp"

#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sprocket::EventKind;
using sprocket::Packet;
using namespace nettest;

// README: "a server sees a client's joined, then its packets, then its left", and poll() gives
// "packets and events in order". With "input" read by latest(), poll() (and get(), whose
// callbacks run) takes the client's left past its last input, which latest()
// then hands out for a client the game has already removed: a ghost player.
TEST_CASE("Servo poll() then latest(\"input\"): a client's last input is not delivered after its left") {
    sprocket::Servo server(0, quick_server());
    server.latest("input");
    std::vector<std::string> order;
    {
        sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
        REQUIRE(connect(client));
        REQUIRE(until_clients(server, 1));
        client.send(Packet::on("input", {{"keys", 7}}));
        client.close();
    }
    REQUIRE(poll_until([&] { return server.clients().empty(); }));
    const auto deadline = Clock::now() + patience;
    while (order.size() < 2 && Clock::now() < deadline) {
        for (auto& e : server.poll()) {  // events, in order with packets: a packet a left follows comes first
            if (e.kind == EventKind::left) order.push_back("left");
            if (e.kind == EventKind::packet) order.push_back("input " + std::to_string(e.packet.get<int>("keys")));
        }
        for (auto& m : server.latest("input")) order.push_back("input " + std::to_string(m.packet.get<int>("keys")));
        server.wait(5ms);
    }
    REQUIRE(order.size() == 2);
    CHECK(order[0] == "input 7");
    CHECK(order[1] == "left");
}

// Same with a poll()-driven loop on the client: the game sees disconnected, then latest("state")
// still hands it the state of the connection that is gone.
TEST_CASE("Sprocket poll() then latest(\"state\"): no state after disconnected") {
    sprocket::Servo server(0, quick_server());
    auto options = quick_client();
    sprocket::Sprocket net("127.0.0.1", server.port(), options);
    REQUIRE(connect(net));
    REQUIRE(until_clients(server, 1));
    net.latest("state");
    const auto id = server.clients().front().id;
    server.send(id, Packet::on("state", {{"tick", 1}}));
    server.kick(id, "bye");
    REQUIRE(poll_until([&] { return net.status().state == sprocket::State::disconnected; }));
    std::vector<std::string> order;
    const auto deadline = Clock::now() + patience;
    while (order.size() < 2 && Clock::now() < deadline) {
        for (auto& e : net.poll()) order.push_back(e.kind == EventKind::packet ? e.packet.channel() : sprocket::to_string(e.kind));
        if (auto s = net.latest("state")) order.push_back("state");
        net.wait(5ms);
    }
    REQUIRE(order.size() == 2);
    CHECK(order[0] == "state");
    CHECK(order[1] == "disconnected");
}

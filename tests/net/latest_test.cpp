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

namespace {

// Waits (deadline, polling) until `done()`; for conditions no event announces.
template <class Done>
bool poll_until(Done&& done, std::chrono::milliseconds limit = patience) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

}  // namespace

// README: "From its first call on, get() (and poll()) leave "state" packets to it, so the two
// lines work in either order", and a stall is "a channel the game never reads". A game that
// reads every channel each frame, after one long frame (a level load, a window drag, a
// breakpoint) that let the receive queue fill, is told its "state" channel stalled: the first
// take of the frame (get()) leaves the state for the next line (latest("state")), the I/O thread
// looks at once, sees the pause older than 250 ms and a take made, and reports a stall.
TEST_CASE("one long frame, then get() and latest(\"state\") each frame: no stalled event") {
    sprocket::Servo server(0, quick_server());
    auto options = quick_client();
    options.max_receive_queue = 16 << 10;
    sprocket::Sprocket net("127.0.0.1", server.port(), options);
    REQUIRE(connect(net));
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
    auto server_options = quick_server();
    server_options.max_receive_queue = 16 << 10;
    sprocket::Servo server(0, server_options);
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));
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

// Connecting, sending and receiving both ways, channels, waiting, status and callbacks.
#include "helpers.hpp"

#include <thread>

using namespace nettest;
using sprocket::EventKind;
using sprocket::Packet;

TEST_CASE("a client connects, is welcomed with an id, and packets flow both ways") {
    sprocket::Servo server(0, quick_server());
    REQUIRE(server.port() != 0);
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(client.wait_connected(patience));
    CHECK(client.id() == 1);
    CHECK(client.status().state == sprocket::State::connected);

    const sprocket::Event joined = next_event(server, EventKind::joined);
    CHECK(joined.client == 1);
    REQUIRE(server.clients().size() == 1);
    CHECK(server.clients()[0].address == "127.0.0.1");

    CHECK(client.send({{"x", 3}, {"y", 2.5}, {"id", "Player 1"}}));
    auto messages = receive(server, 1);
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].client == 1);
    CHECK(messages[0].packet.get<int>("x") == 3);
    CHECK(messages[0].packet.get<std::string>("id") == "Player 1");

    CHECK(server.send(1, Packet{{"hp", 100}}));
    CHECK(server.send(1, {{"hp", 90}, {"alive", true}}));  // a literal, encoded as it is
    CHECK_FALSE(server.send(7, {{"hp", 0}}));                // no such client
    auto packets = receive(client, 2);
    REQUIRE(packets.size() == 2);
    CHECK(packets[0].get<int>("hp") == 100);
    CHECK(packets[1] == Packet{{"alive", true}, {"hp", 90}});
}

TEST_CASE("packets sent before the connection is up are queued and delivered in order") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    for (int i = 0; i < 10; ++i) CHECK(client.send({{"seq", i}}));
    auto messages = receive(server, 10);
    REQUIRE(messages.size() == 10);
    for (int i = 0; i < 10; ++i) CHECK(messages[static_cast<std::size_t>(i)].packet.get<int>("seq") == i);
}

TEST_CASE("get(channel) drains one channel, latest(channel) keeps only the newest") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(until_clients(server, 1));
    const auto id = server.clients()[0].id;
    for (int i = 0; i < 5; ++i) server.send(id, Packet::on("state", {{"tick", i}}));
    server.send(id, Packet::on("chat", {{"text", "gg"}}));
    server.send(id, Packet{{"plain", true}});
    // The last packet sent is the plain one: once it is here, all are.
    std::vector<Packet> plain;
    const auto deadline = Clock::now() + patience;
    while (plain.empty() && Clock::now() < deadline) {
        client.wait(100ms);
        plain = client.get("");
    }
    REQUIRE(plain.size() == 1);
    CHECK(plain[0].get<bool>("plain"));
    const auto chat = client.get("chat");
    REQUIRE(chat.size() == 1);
    CHECK(chat[0].get<std::string>("text") == "gg");
    const auto state = client.latest("state");
    REQUIRE(state.has_value());
    CHECK(state->get<int>("tick") == 4);
    CHECK_FALSE(client.latest("state").has_value());
    CHECK(client.get().empty());
}

TEST_CASE("Servo::latest gives the newest packet of a channel per client") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket a("127.0.0.1", server.port(), quick_client());
    sprocket::Sprocket b("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(a));
    REQUIRE(connect(b));
    for (int i = 0; i < 3; ++i) {
        a.send(Packet::on("input", {{"n", i}}));
        b.send(Packet::on("input", {{"n", 10 + i}}));
    }
    a.send({{"done", true}});
    b.send({{"done", true}});
    std::vector<sprocket::Message> done;
    const auto deadline = Clock::now() + patience;
    while (done.size() < 2 && Clock::now() < deadline) {
        server.wait(100ms);
        for (auto& m : server.get("")) done.push_back(std::move(m));
    }
    REQUIRE(done.size() == 2);
    const auto newest = server.latest("input");
    REQUIRE(newest.size() == 2);
    CHECK(newest[0].client == a.id());
    CHECK(newest[0].packet.get<int>("n") == 2);
    CHECK(newest[1].client == b.id());
    CHECK(newest[1].packet.get<int>("n") == 12);
}

TEST_CASE("get(timeout) waits for a packet and returns early when one arrives") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
    const auto start = Clock::now();
    CHECK(client.get(150ms).empty());
    CHECK(Clock::now() - start >= 150ms);
    CHECK_FALSE(client.wait(50ms));

    REQUIRE(until_clients(server, 1));
    server.sendall({{"hi", 1}});
    const auto packets = client.get(patience);
    REQUIRE(packets.size() == 1);
    CHECK(packets[0].get<int>("hi") == 1);
}

TEST_CASE("connection events come in order with packets, and callbacks run on the caller's thread") {
    sprocket::Servo server(0, quick_server());
    std::vector<std::string> log;
    const auto caller = std::this_thread::get_id();
    bool same_thread = true;
    server.on(EventKind::joined, [&](const sprocket::Event& e) {
        log.push_back("joined " + std::to_string(e.client));
        same_thread &= std::this_thread::get_id() == caller;
    });
    server.on(EventKind::left, [&](const sprocket::Event& e) {
        log.push_back("left " + std::to_string(e.client) + " " + sprocket::to_string(e.reason));
        same_thread &= std::this_thread::get_id() == caller;
    });
    CHECK_THROWS_AS(server.on(EventKind::packet, [](const sprocket::Event&) {}), std::invalid_argument);
    {
        sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
        bool connected = false;
        client.on(EventKind::connected, [&](const sprocket::Event&) { connected = true; });
        CHECK_THROWS_AS(client.on(EventKind::joined, [](const sprocket::Event&) {}), std::invalid_argument);
        client.send({{"n", 1}});
        client.send({{"n", 2}});
        std::vector<sprocket::Event> seen;
        REQUIRE(pump_until(client, seen, [&](const auto&) { return connected; }));
    }
    std::vector<sprocket::Event> seen;
    REQUIRE(pump_until(server, seen, last_is(EventKind::left)));
    REQUIRE(seen.size() == 4);
    CHECK(seen[0].kind == EventKind::joined);
    CHECK(seen[1].packet.get<int>("n") == 1);
    CHECK(seen[2].packet.get<int>("n") == 2);
    CHECK(seen[3].kind == EventKind::left);
    CHECK(seen[3].reason == sprocket::CloseReason::closed_by_peer);
    CHECK(log == std::vector<std::string>{"joined 1", "left 1 closed by peer"});
    CHECK(same_thread);
}

TEST_CASE("heartbeats measure the round-trip time on both sides") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
    // Heartbeats every 50 ms; waiting on the client's inbox bounds each round of checks.
    const auto deadline = Clock::now() + patience;
    while ((client.rtt().count() == 0 || server.clients().empty() || server.clients()[0].rtt.count() == 0) &&
           Clock::now() < deadline) {
        client.wait(20ms);
        client.get();
    }
    CHECK(client.rtt().count() > 0);
    REQUIRE(server.clients().size() == 1);
    CHECK(server.clients()[0].rtt.count() > 0);
    CHECK(client.rtt() < std::chrono::microseconds(std::chrono::seconds(1)));
}

TEST_CASE("a Servo listens on several addresses (add_addr) and says so when it cannot") {
    sprocket::Servo server(0, quick_server());
    const std::uint16_t second = server.add_addr("127.0.0.1", 0);
    CHECK(second != server.port());
    sprocket::Sprocket a("127.0.0.1", server.port(), quick_client());
    sprocket::Sprocket b("127.0.0.1", second, quick_client());
    REQUIRE(connect(a));
    REQUIRE(connect(b));
    CHECK(server.clients().size() == 2);

    try {
        sprocket::Servo clash(server.port());
        FAIL("listening twice on one port must fail");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()) == "servo: cannot listen on 127.0.0.1:" + std::to_string(server.port()) +
                                           " (address already in use)");
    }
    CHECK_THROWS_AS(server.add_addr("not an address", 0), std::runtime_error);
}

TEST_CASE("a restarted server listens on the same port at once") {
    std::uint16_t port = 0;
    {
        sprocket::Servo server(0, quick_server());
        port = server.port();
        sprocket::Sprocket client("127.0.0.1", port, quick_client());
        REQUIRE(connect(client));
    }
    sprocket::Servo again(port, quick_server());
    CHECK(again.port() == port);
}

TEST_CASE("a packet bigger than the peer's max_frame_size is refused on the sender's side") {
    // Each side says in the handshake what it accepts; send() checks against the peer's.
    auto servo_options = quick_server();
    servo_options.max_frame_size = 1000;
    sprocket::Servo server(0, servo_options);
    auto options = quick_client();
    options.max_frame_size = 3000;
    sprocket::Sprocket client("127.0.0.1", server.port(), options);
    REQUIRE(client.wait_connected(patience));
    CHECK_THROWS_WITH_AS(client.send({{"blob", std::string(2000, 'x')}}),
                         doctest::Contains("exceeds the peer's max_frame_size 1000"), std::length_error);
    CHECK(client.send({{"small", 1}}));
    CHECK(client.connected());
    REQUIRE(until_clients(server, 1));
    const sprocket::ClientId id = server.clients()[0].id;
    CHECK(server.send(id, {{"blob", std::string(2000, 'x')}}));  // the client takes 3000
    // What a client said must not make the server throw: not sent, false (0 for sendall).
    CHECK_FALSE(server.send(id, {{"blob", std::string(4000, 'x')}}));
    CHECK(server.sendall({{"blob", std::string(4000, 'x')}}) == 0);
    const auto got = receive(client, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].get<std::string>("blob").size() == 2000);
    CHECK(client.connected());
}

TEST_CASE("sendall skips a client that accepts less, and still reaches the others") {
    sprocket::Servo server(0, quick_server());
    auto small_options = quick_client();
    small_options.max_frame_size = 1000;
    sprocket::Sprocket small("127.0.0.1", server.port(), small_options);
    sprocket::Sprocket roomy("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(small));
    REQUIRE(connect(roomy));
    REQUIRE(until_clients(server, 2));
    CHECK(server.sendall({{"blob", std::string(5000, 'x')}}) == 1);
    CHECK(receive(roomy, 1).size() == 1);
    CHECK(small.connected());
}

TEST_CASE("default sizes: a server sends a 40 MB map to a client; a client's 2 MB upload is refused at once") {
    // The default sizes (max_send_queue 4 MiB; a server accepts 1 MiB, a client 256 MiB), with
    // heartbeats every 50 ms: pings queued while the map waits must not count it either.
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(client.wait_connected(patience));
    REQUIRE(until_clients(server, 1));
    const sprocket::ClientId id = server.clients()[0].id;
    sprocket::Bytes map(40'000'000);
    for (std::size_t i = 0; i < map.size(); i += 4096) map[i] = static_cast<std::uint8_t>(i / 4096);
    CHECK(server.send(id, Packet::on("assets", {{"map", map}})));
    // The small packets around it still fit in the queue (one packet over max_send_queue at a
    // time does not count against it: tests/sprocket/outbox_test.cpp).
    for (int i = 0; i < 100; ++i) CHECK(server.send(id, Packet::on("state", {{"tick", i}})));
    std::vector<Packet> got = receive(client, 101, 60s);
    INFO("client: " << client.status() << ", received " << client.stats().bytes_received << " bytes, server queue "
                    << server.clients().at(0).stats.send_queue);
    REQUIRE(got.size() == 101);
    int maps = 0;
    for (const Packet& p : got) {
        if (p.channel() != "assets") continue;
        ++maps;
        CHECK(p.get<sprocket::Bytes>("map") == map);
    }
    CHECK(maps == 1);
    CHECK(client.connected());
    // Done: the next big one may go.
    CHECK(server.send(id, Packet::on("assets", {{"small map", sprocket::Bytes(5'000'000, 1)}})));
    CHECK_THROWS_WITH_AS(client.send({{"upload", std::string(2'000'000, 'u')}}),
                         doctest::Contains("max_frame_size 1048576"), std::length_error);
    CHECK(client.connected());
}

TEST_CASE("a moved-from endpoint says so instead of crashing") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    sprocket::Sprocket moved = std::move(client);
    CHECK_THROWS_AS(client.send({{"x", 1}}), std::logic_error);  // NOLINT: use after move on purpose
    REQUIRE(connect(moved));
    sprocket::Servo other = std::move(server);
    CHECK_THROWS_AS(server.clients(), std::logic_error);  // NOLINT: use after move on purpose
    CHECK(until_clients(other, 1));
}

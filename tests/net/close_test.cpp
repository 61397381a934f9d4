// Every way a connection ends is produced and reported, with its reason, on both sides.
#include "raw_peer.hpp"

#include <memory>
#include <string>
#include <vector>

using namespace nettest;
using sprocket::CloseReason;
using sprocket::EventKind;
using sprocket::Packet;

TEST_CASE("close(): the client reports 'closed', the server 'closed by peer'") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
    client.close();
    CHECK(client.status().state == sprocket::State::disconnected);
    CHECK(client.status().reason == CloseReason::closed);
    CHECK_FALSE(client.send({{"late", 1}}));
    const auto gone = next_event(client, EventKind::disconnected);
    CHECK(gone.reason == CloseReason::closed);
    const auto left = next_event(server, EventKind::left);
    CHECK(left.reason == CloseReason::closed_by_peer);
    CHECK(server.clients().empty());
}

TEST_CASE("kick: the client is told why, the server reports 'kicked'") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));
    CHECK(server.kick(client.id(), "cheating"));
    CHECK_FALSE(server.kick(999, "nobody"));
    const auto gone = next_event(client, EventKind::disconnected);
    CHECK(gone.reason == CloseReason::kicked);
    CHECK(gone.detail == "cheating");
    CHECK(client.status().reason == CloseReason::kicked);
    const auto left = next_event(server, EventKind::left);
    CHECK(left.reason == CloseReason::kicked);
    CHECK(left.detail == "cheating");
}

TEST_CASE("a server destroyed with clients connected: each is told 'server shutdown'") {
    auto server = std::make_unique<sprocket::Servo>(0, quick_server());
    sprocket::Sprocket a("127.0.0.1", server->port(), quick_client());
    sprocket::Sprocket b("127.0.0.1", server->port(), quick_client());
    REQUIRE(connect(a));
    REQUIRE(connect(b));
    for (int i = 0; i < 1000; ++i) server->sendall({{"seq", i}});
    server.reset();
    for (auto* client : {&a, &b}) {
        // Everything queued before the shutdown arrives first, then the goodbye.
        const auto packets = receive(*client, 1000);
        CHECK(packets.size() == 1000);
        std::vector<sprocket::Event> seen;
        REQUIRE(pump_until(*client, seen, [&](const auto&) { return client->status().state == sprocket::State::disconnected; }));
        CHECK(client->status().reason == CloseReason::server_shutdown);
    }
}

TEST_CASE("nobody listening: 'connect failed' with the system's reason") {
    sprocket::Sprocket client("127.0.0.1", closed_port(), quick_client());
    CHECK_FALSE(client.wait_connected(patience));  // returns as soon as it has failed
    const auto gone = next_event(client, EventKind::disconnected);
    CHECK(gone.reason == CloseReason::connect_failed);
    CHECK(gone.detail == "connection refused");
    CHECK(client.status().state == sprocket::State::disconnected);

    sprocket::Sprocket nowhere("no.such.host.invalid", 1, quick_client());
    const auto unresolved = next_event(nowhere, EventKind::disconnected);
    CHECK(unresolved.reason == CloseReason::connect_failed);
    CHECK(unresolved.detail == "cannot resolve host 'no.such.host.invalid'");
}

TEST_CASE("a server that goes silent after the welcome is timed out by heartbeat") {
    RawListener listener;
    auto options = quick_client();
    options.timeout = 300ms;
    sprocket::Sprocket client("127.0.0.1", listener.port(), options);
    RawPeer peer;
    const auto start = Clock::now();  // before the welcome: the client's clock starts after it
    welcome(peer, listener);
    REQUIRE(connect(client));
    CHECK(client.id() == 7);
    const auto gone = next_event(client, EventKind::disconnected);
    CHECK(gone.reason == CloseReason::timeout);
    CHECK(Clock::now() - start >= 250ms);
    // The silent peer still gets a goodbye saying why.
    const auto goodbye = peer.next_frame();
    REQUIRE(goodbye);
    CHECK(goodbye->kind == static_cast<std::uint8_t>(sprocket::FrameKind::goodbye));
    CHECK(sprocket::detail::parse_goodbye(goodbye->view())->reason == CloseReason::timeout);
}

TEST_CASE("a server that closes its socket: 'closed by peer'") {
    RawListener listener;
    sprocket::Sprocket client("127.0.0.1", listener.port(), quick_client());
    {
        RawPeer peer;
        welcome(peer, listener);
        REQUIRE(connect(client));
    }
    const auto gone = next_event(client, EventKind::disconnected);
    CHECK(gone.reason == CloseReason::closed_by_peer);
}

TEST_CASE("a server that sends garbage: 'protocol error', and the packets before it are kept") {
    RawListener listener;
    sprocket::Sprocket client("127.0.0.1", listener.port(), quick_client());
    RawPeer peer;
    welcome(peer, listener);
    sprocket::Bytes out;
    sprocket::append_packet_frame(out, Packet{{"good", 1}});
    const sprocket::Bytes junk = {3, 0, 0, 0, 0x01, 0xff, 0xff, 0xff};  // a packet frame with a bad body
    out.insert(out.end(), junk.begin(), junk.end());
    REQUIRE(peer.send(out));
    std::vector<sprocket::Event> seen;
    REQUIRE(pump_until(client, seen, last_is(EventKind::disconnected)));
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].kind == EventKind::connected);
    CHECK(seen[1].packet.get<int>("good") == 1);
    CHECK(seen[2].reason == CloseReason::protocol_error);
    CHECK(seen[2].detail.rfind("bad packet: ", 0) == 0);
    // The server is told why before the socket closes.
    const auto goodbye = peer.next_frame();
    REQUIRE(goodbye);
    CHECK(sprocket::detail::parse_goodbye(goodbye->view())->reason == CloseReason::protocol_error);
    CHECK(peer.wait_closed());
}

TEST_CASE("reconnect: after the server goes away the client comes back on its own") {
    auto options = quick_client();
    options.reconnect = true;
    options.reconnect_delay = 20ms;
    options.reconnect_max_delay = 100ms;
    auto server = std::make_unique<sprocket::Servo>(0, quick_server());
    const std::uint16_t port = server->port();
    sprocket::Sprocket client("127.0.0.1", port, options);
    REQUIRE(connect(client));
    server.reset();
    std::vector<sprocket::Event> seen;
    REQUIRE(pump_until(client, seen, [](const auto& s) { return !s.empty() && s.back().kind == EventKind::reconnecting; }));
    CHECK(seen.back().reason == CloseReason::server_shutdown);
    // A blip is not the end: no `disconnected` (a game's "back to the menu") on the way.
    for (const auto& e : seen) CHECK(e.kind != EventKind::disconnected);
    CHECK(client.status().state == sprocket::State::connecting);
    client.send({{"queued", "while away"}});
    sprocket::Servo again(port, quick_server());
    REQUIRE(connect(client));
    const auto messages = receive(again, 1);
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].packet.get<std::string>("queued") == "while away");
}

TEST_CASE("reconnect gives up after reconnect_attempts and never follows a kick") {
    auto options = quick_client();
    options.reconnect = true;
    options.reconnect_delay = 10ms;
    options.reconnect_attempts = 2;
    sprocket::Sprocket client("127.0.0.1", closed_port(), options);
    std::vector<sprocket::Event> seen;
    REQUIRE(pump_until(client, seen, [&](const auto&) { return client.status().state == sprocket::State::disconnected; }));
    int reconnecting = 0, disconnected = 0;
    for (const auto& e : seen) {
        reconnecting += e.kind == EventKind::reconnecting;
        disconnected += e.kind == EventKind::disconnected;
    }
    CHECK(reconnecting == 2);
    CHECK(disconnected == 1);  // once, when it gave up: not after every failed attempt
    CHECK(seen.back().kind == EventKind::disconnected);

    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket kicked("127.0.0.1", server.port(), options);
    REQUIRE(connect(kicked));
    server.kick(kicked.id(), "bye");
    CHECK(next_event(kicked, EventKind::disconnected).reason == CloseReason::kicked);
    CHECK(kicked.status().state == sprocket::State::disconnected);
}

TEST_CASE("endpoints destroyed mid-send: what was queued arrives, in order, then the goodbye") {
    sprocket::Servo server(0, quick_server());
    constexpr int count = 20'000;
    {
        auto options = quick_client();
        options.linger = 10s;  // only reached if the server stopped reading
        sprocket::Sprocket client("127.0.0.1", server.port(), options);
        for (int i = 0; i < count; ++i) client.send({{"seq", i}});
    }
    std::vector<sprocket::Event> seen;
    REQUIRE(pump_until(server, seen, last_is(EventKind::left)));
    int expected = 0;
    for (const auto& e : seen) {
        if (e.kind != EventKind::packet) continue;
        if (e.packet.get<int>("seq") != expected) FAIL("out of order at " << expected);
        ++expected;
    }
    CHECK(expected == count);
    CHECK(seen.back().reason == CloseReason::closed_by_peer);
}

TEST_CASE("a Sprocket destroyed while connecting, and one destroyed with the I/O thread busy") {
    sprocket::Servo server(0, quick_server());
    for (int i = 0; i < 20; ++i) {
        sprocket::Sprocket gone("127.0.0.1", server.port(), quick_client());
        gone.send({{"n", i}});
    }
    sprocket::Sprocket stays("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(stays));
    CHECK(stays.send({{"still", "here"}}));
    const auto deadline = Clock::now() + patience;
    bool found = false;
    while (!found && Clock::now() < deadline) {
        for (auto& m : server.get(100ms)) found |= m.packet.has("still");
    }
    CHECK(found);
}

TEST_CASE("close() right after a big packet: the goodbye goes after all of it, pieces included") {
    auto server_options = quick_server();
    server_options.max_frame_size = 16 << 20;  // the server takes the upload
    sprocket::Servo server(0, server_options);
    auto options = quick_client();
    options.linger = 10s;  // time for 8 MB to leave on a busy machine
    sprocket::Sprocket client("127.0.0.1", server.port(), options);
    REQUIRE(client.wait_connected(patience));
    const sprocket::Bytes blob(8 << 20, 0x5a);
    REQUIRE(client.send(Packet::on("assets", {{"blob", blob}})));
    REQUIRE(client.send(Packet::on("assets", {{"after", true}})));  // behind it, in its channel
    client.close();
    std::vector<sprocket::Event> seen;
    REQUIRE(pump_until(server, seen, last_is(EventKind::left)));
    std::vector<std::string> order;
    for (const auto& e : seen) {
        if (e.kind == EventKind::packet) order.push_back(e.packet.has("blob") ? "blob" : "after");
        if (e.kind == EventKind::left) CHECK(e.reason == CloseReason::closed_by_peer);
    }
    CHECK(order == std::vector<std::string>{"blob", "after"});
}

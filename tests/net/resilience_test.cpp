// Regression cases from an adversarial review: reconnects that must not stall, callbacks that
// destroy their endpoint, closes while lingering, and peers that misbehave in the handshake.
#include "raw_peer.hpp"

#include <sprocket/codec.hpp>

#include <memory>

using namespace nettest;
using sprocket::CloseReason;
using sprocket::EventKind;
using sprocket::Packet;

namespace {

sprocket::SprocketOptions reconnecting() {
    auto o = quick_client();
    o.reconnect = true;
    o.reconnect_delay = 20ms;
    o.reconnect_max_delay = 50ms;
    return o;
}

// Welcomes `client` as `peer`, then sends it a frame of an unknown kind: the client closes with
// a goodbye, lingers (the peer reads nothing) and plans a reconnect.
void make_it_linger(sprocket::Sprocket& client, RawPeer& peer, RawListener& listener) {
    welcome(peer, listener, 5);
    REQUIRE(connect(client));
    REQUIRE(peer.send(sprocket::Bytes{0, 0, 0, 0, 0x42}));
    std::vector<sprocket::Event> seen;
    REQUIRE(pump_until(client, seen, last_is(EventKind::reconnecting)));
}

}  // namespace

TEST_CASE("a reconnecting client keeps retrying after a handshake deadline, with nothing else to wake it") {
    RawListener listener;
    auto options = reconnecting();
    options.handshake_timeout = 200ms;
    sprocket::Sprocket client("127.0.0.1", listener.port(), options);
    RawPeer first, second;
    REQUIRE(first.accept(listener.listener));   // never answers the hello
    REQUIRE(second.accept(listener.listener));  // the retry came on its own
    CHECK(client.status().state == sprocket::State::connecting);
}

TEST_CASE("a send overflow while connecting closes the attempt at once") {
    RawListener listener;  // connects in the kernel's backlog, but never accepted nor read
    auto options = quick_client();
    options.max_send_queue = 64 << 10;
    sprocket::Sprocket client("127.0.0.1", listener.port(), options);
    // The kernel takes what its buffers hold (nobody reads them); then the queue fills up.
    const Packet chunk{{"data", std::string(10'000, 'x')}};
    bool refused = false;
    for (int i = 0; i < 10'000 && !refused; ++i) refused = !client.send(chunk);
    CHECK(refused);
    CHECK(next_event(client, EventKind::disconnected).reason == CloseReason::queue_overflow);
    CHECK(client.status().state == sprocket::State::disconnected);
}

TEST_CASE("pings flooded before any hello cannot grow the server's queue") {
    auto options = quick_server();
    options.max_send_queue = 64 << 10;
    options.handshake_timeout = 60s;  // the flood must be stopped long before this
    sprocket::Servo server(0, options);
    RawPeer flooder;
    REQUIRE(flooder.connect(server.port()));
    sprocket::Bytes pings;
    for (int i = 0; i < 20'000; ++i) sprocket::detail::append_ping(pings, sprocket::FrameKind::ping, 1);
    const std::size_t frame = pings.size() / 20'000;
    flooder.socket().setBlocking(false);
    std::size_t sent = 0;
    bool cut_off = false;
    const auto deadline = Clock::now() + patience;
    while (!cut_off && Clock::now() < deadline) {
        std::size_t n = 0;
        const auto status = flooder.socket().send(pings.data() + sent % frame, pings.size() - sent % frame, n);
        sent += n;
        cut_off = status == sf::Socket::Disconnected || status == sf::Socket::Error;
        if (!cut_off) server.wait(5ms);  // bounded: lets the server read and answer
    }
    INFO("sent " << sent << " bytes of pings");
    CHECK(cut_off);
    CHECK(server.poll().empty());  // it never joined
}

TEST_CASE("a callback may destroy its own Sprocket or Servo") {
    auto server = std::make_unique<sprocket::Servo>(0, quick_server());
    auto client = std::make_unique<sprocket::Sprocket>("127.0.0.1", server->port(), reconnecting());
    REQUIRE(connect(*client));
    int calls = 0;
    client->on(EventKind::reconnecting, [&](const sprocket::Event&) {
        ++calls;
        client.reset();
    });
    server.reset();  // the client now queues 'reconnecting'
    const auto deadline = Clock::now() + patience;
    while (client && Clock::now() < deadline) {
        client->wait(100ms);
        if (client) client->get();
    }
    CHECK(calls == 1);
    CHECK_FALSE(client);

    // Two clients leave; the first 'left' callback destroys the Servo.
    auto other = std::make_unique<sprocket::Servo>(0, quick_server());
    {
        sprocket::Sprocket a("127.0.0.1", other->port(), quick_client());
        sprocket::Sprocket b("127.0.0.1", other->port(), quick_client());
        REQUIRE(a.wait_connected(patience));
        REQUIRE(b.wait_connected(patience));
    }
    int lefts = 0;
    other->on(EventKind::left, [&](const sprocket::Event&) {
        ++lefts;
        other.reset();
    });
    const auto until = Clock::now() + patience;
    while (other && Clock::now() < until) {
        other->wait(100ms);
        if (other) other->get();
    }
    // The events already drained with the first are still delivered: no crash either way.
    CHECK(lefts >= 1);
    CHECK_FALSE(other);
}

TEST_CASE("close() while a reconnecting client lingers ends it for good") {
    RawListener listener;
    sprocket::Sprocket client("127.0.0.1", listener.port(), reconnecting());
    RawPeer peer;
    make_it_linger(client, peer, listener);
    client.close();
    CHECK(client.status().state == sprocket::State::disconnected);
    CHECK(client.status().reason == CloseReason::closed);
    CHECK_FALSE(client.send({{"x", 1}}));
    const auto start = Clock::now();
    CHECK(client.get(5s).empty());
    CHECK(Clock::now() - start < 4s);  // over for good: no waiting the whole timeout
}

TEST_CASE("packets sent while a reconnecting client lingers go out on the next connection") {
    RawListener listener;
    sprocket::Sprocket client("127.0.0.1", listener.port(), reconnecting());
    {
        RawPeer peer;
        make_it_linger(client, peer, listener);
        REQUIRE(client.send({{"x", 42}}));
        // The old connection carries the goodbye and nothing after it.
        const auto goodbye = peer.next_frame();
        REQUIRE(goodbye);
        CHECK(goodbye->kind == static_cast<std::uint8_t>(sprocket::FrameKind::goodbye));
        CHECK_FALSE(peer.next_frame(200ms));
    }
    RawPeer again;
    welcome(again, listener, 6);
    const auto packet = again.next_frame();
    REQUIRE(packet);
    REQUIRE(packet->kind == static_cast<std::uint8_t>(sprocket::FrameKind::packet));
    const auto decoded = sprocket::decode(packet->body);
    REQUIRE(decoded);
    CHECK(decoded.packet().get<int>("x") == 42);
}

TEST_CASE("a paused connection whose peer resets is dropped at once, not spun on") {
    auto options = quick_server();
    options.max_receive_queue = 16 << 10;
    options.heartbeat_interval = 30s;  // no heartbeat will notice: only the socket's state can
    options.timeout = 60s;
    sprocket::Servo server(0, options);
    RawPeer peer;
    REQUIRE(peer.connect(server.port()));
    REQUIRE(peer.join() != 0);
    REQUIRE(next_event(server, EventKind::joined).client != 0);
    sprocket::Bytes out;
    for (int i = 0; i < 300; ++i) sprocket::append_packet_frame(out, Packet{{"data", std::string(1000, 'x')}});
    REQUIRE(peer.send(out));
    // The game does not drain: the server stops reading that peer. Wait until it has read
    // enough to pause (its inbox then holds packets).
    REQUIRE(server.wait(patience));
    peer.reset();
    // Only packets (left unread) and, promptly, the leave: the I/O thread noticed the reset.
    const auto left = next_event(server, EventKind::left);
    CHECK(left.reason == CloseReason::closed_by_peer);
}

TEST_CASE("get(channel) never lets a connection event overtake packets left queued") {
    sprocket::Servo server(0, quick_server());
    {
        sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
        REQUIRE(client.wait_connected(patience));
        client.send(Packet::on("a", {{"n", 1}}));
    }
    std::vector<std::string> order;
    server.on(EventKind::joined, [&](const sprocket::Event&) { order.push_back("joined"); });
    server.on(EventKind::left, [&](const sprocket::Event&) { order.push_back("left"); });
    // Wait until everything is queued: the leave is last.
    REQUIRE(server.wait(patience));
    const auto deadline = Clock::now() + patience;
    while (Clock::now() < deadline) {
        CHECK(server.get("b").empty());  // runs the callbacks of events before the "a" packet
        if (!order.empty()) break;
        server.wait(20ms);
    }
    REQUIRE(order == std::vector<std::string>{"joined"});  // 'left' waits behind the "a" packet
    std::vector<sprocket::Event> rest;
    REQUIRE(pump_until(server, rest, last_is(EventKind::left)));
    REQUIRE(rest.size() == 2);
    CHECK(rest[0].packet.get<int>("n") == 1);
    CHECK(order == std::vector<std::string>{"joined", "left"});
}

TEST_CASE("send, then destroy at once: the packet still goes out (a script's last words)") {
    sprocket::Servo server(0, quick_server());
    {
        sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
        CHECK(client.send({{"last", "words"}}));
    }  // destroyed while (most likely) still connecting
    std::vector<sprocket::Event> seen;
    REQUIRE(pump_until(server, seen, last_is(EventKind::left)));
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].kind == EventKind::joined);
    CHECK(seen[1].packet.get<std::string>("last") == "words");
    CHECK(seen[2].reason == CloseReason::closed_by_peer);
}

TEST_CASE("close() while connecting: closed at once for the game, queued packets still delivered") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    client.send({{"queued", true}});
    client.close();
    CHECK(client.status().state == sprocket::State::disconnected);
    CHECK(client.status().reason == CloseReason::closed);
    CHECK_FALSE(client.send({{"late", true}}));
    const auto got = receive(server, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].packet.has("queued"));
    // The close is the last event (a 'connected' may come before it, if the handshake won the
    // race with close(); never after it).
    const auto events = client.poll();
    REQUIRE_FALSE(events.empty());
    CHECK(events.back().kind == EventKind::disconnected);
    CHECK(events.back().reason == CloseReason::closed);
    CHECK(client.poll().empty());
}

TEST_CASE("a client that can never connect refuses sends instead of queueing forever") {
    sprocket::Sprocket client("no.such.host.invalid", 1, quick_client());
    REQUIRE_FALSE(client.wait_connected(patience));
    CHECK_FALSE(client.send({{"x", 1}}));
}

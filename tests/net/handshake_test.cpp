// The handshake: rejections with reasons the client can show, and peers that do not finish it.
#include "raw_peer.hpp"

using namespace nettest;
using sprocket::CloseReason;
using sprocket::EventKind;

namespace {

sprocket::Event rejection(sprocket::Servo& server, sprocket::SprocketOptions options) {
    sprocket::Sprocket client("127.0.0.1", server.port(), options);
    const auto gone = next_event(client, EventKind::disconnected);
    CHECK(client.status().state == sprocket::State::disconnected);
    CHECK(client.status().reason == CloseReason::rejected);
    return gone;
}

}  // namespace

TEST_CASE("rejections say why: wrong password, server full, wrong application, version mismatch") {
    auto server_options = quick_server();
    server_options.password = "swordfish";
    server_options.max_clients = 1;
    server_options.application = "tanks";
    sprocket::Servo server(0, server_options);

    auto options = quick_client();
    options.application = "tanks";
    options.password = "guess";
    auto gone = rejection(server, options);
    CHECK(gone.reason == CloseReason::rejected);
    CHECK(gone.detail == "wrong password");

    options.password = "swordfish";
    sprocket::Sprocket first("127.0.0.1", server.port(), options);
    REQUIRE(connect(first));
    gone = rejection(server, options);
    CHECK(gone.detail == "server full");

    options.application = "chess";
    gone = rejection(server, options);
    CHECK(gone.detail == "wrong application: server runs 'tanks', client 'chess'");

    // Only a hand-made hello can claim another protocol version.
    RawPeer peer;
    REQUIRE(peer.connect(server.port()));
    REQUIRE(peer.hello("tanks", "swordfish", 2));
    const auto reject = peer.next_frame();
    REQUIRE(reject);
    REQUIRE(reject->kind == static_cast<std::uint8_t>(sprocket::FrameKind::reject));
    const auto parsed = sprocket::detail::parse_reject(reject->view());
    REQUIRE(parsed);
    CHECK(parsed->code == sprocket::detail::RejectCode::version_mismatch);
    CHECK(parsed->text == "version mismatch: server speaks protocol 1, client 2");
    CHECK(peer.wait_closed());

    // None of them ever joined.
    std::vector<sprocket::Event> seen;
    for (auto& e : server.poll()) seen.push_back(e);
    CHECK(seen.size() == 1);  // the first client's join
    CHECK(server.clients().size() == 1);
}

TEST_CASE("a socket that connects and never speaks is dropped at the handshake deadline") {
    auto options = quick_server();
    options.handshake_timeout = 300ms;
    sprocket::Servo server(0, options);
    RawPeer silent;
    const auto start = Clock::now();
    REQUIRE(silent.connect(server.port()));
    CHECK(silent.wait_closed());
    const auto waited = Clock::now() - start;
    CHECK(waited >= 250ms);
    CHECK(waited < 5s);
    CHECK(server.poll().empty());  // it never joined, so it never left either
}

TEST_CASE("a socket that speaks garbage instead of a hello is rejected and closed") {
    sprocket::Servo server(0, quick_server());
    RawPeer peer;
    REQUIRE(peer.connect(server.port()));
    sprocket::Bytes out;
    const sprocket::Bytes body = {'G', 'E', 'T', ' ', '/'};
    sprocket::append_frame(out, static_cast<std::uint8_t>(sprocket::FrameKind::hello), body.data(), body.size());
    REQUIRE(peer.send(out));
    const auto reject = peer.next_frame();
    REQUIRE(reject);
    CHECK(sprocket::detail::parse_reject(reject->view())->code == sprocket::detail::RejectCode::bad_hello);
    CHECK(peer.wait_closed());

    RawPeer http;
    REQUIRE(http.connect(server.port()));
    const std::string get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    REQUIRE(http.send(sprocket::Bytes(get.begin(), get.end())));
    CHECK(http.wait_closed());  // a 'frame' of 542393671 bytes: over the limit, closed at once
}

TEST_CASE("a peer that completes the handshake and goes silent is timed out by heartbeat") {
    auto options = quick_server();
    options.timeout = 300ms;
    sprocket::Servo server(0, options);
    RawPeer peer;
    REQUIRE(peer.connect(server.port()));
    const auto start = Clock::now();  // before the hello: the server's clock starts after it
    const auto id = peer.join();
    REQUIRE(id == 1);
    CHECK(next_event(server, EventKind::joined).client == id);
    const auto left = next_event(server, EventKind::left);
    CHECK(left.client == id);
    CHECK(left.reason == CloseReason::timeout);
    CHECK(left.detail == "nothing heard for 300 ms");
    CHECK(Clock::now() - start >= 250ms);
    CHECK(server.clients().empty());
}

TEST_CASE("a peer that answers heartbeats stays connected past the timeout") {
    auto options = quick_server();
    options.timeout = 1000ms;
    sprocket::Servo server(0, options);
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
    // Three timeouts' worth of waiting: heartbeats (every 50 ms) keep the connection alive.
    const auto until = Clock::now() + 3000ms;
    std::vector<sprocket::Event> seen;
    pump_until(server, seen, [](const auto& s) {
        for (const auto& e : s) if (e.kind == EventKind::left) return true;
        return false;
    }, 3000ms);
    CHECK(Clock::now() >= until);
    CHECK(server.clients().size() == 1);
    CHECK(client.connected());
}

TEST_CASE("a protocol error from one client closes only that client, with the reason") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket good("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(good));
    RawPeer bad;
    REQUIRE(bad.connect(server.port()));
    REQUIRE(bad.join() != 0);
    sprocket::Bytes out;
    sprocket::append_packet_frame(out, sprocket::Packet{{"fine", 1}});
    const sprocket::Bytes unknown_kind = {0, 0, 0, 0, 0x42};
    out.insert(out.end(), unknown_kind.begin(), unknown_kind.end());
    REQUIRE(bad.send(out));
    std::vector<sprocket::Event> seen;
    REQUIRE(pump_until(server, seen, last_is(EventKind::left)));
    CHECK(seen.back().reason == CloseReason::protocol_error);
    CHECK(seen.back().detail == "unknown frame kind 66");
    CHECK(seen[seen.size() - 2].packet.get<int>("fine") == 1);  // accepted before the error: kept
    CHECK(bad.wait_closed());
    CHECK(good.connected());
    server.sendall({{"still", "serving"}});
    CHECK(receive(good, 1).size() == 1);
}

TEST_CASE("a client's goodbye cannot make the server report a kick, a server's can") {
    sprocket::Servo server(0, quick_server());
    RawPeer liar;
    REQUIRE(liar.connect(server.port()));
    REQUIRE(liar.join() != 0);
    sprocket::Bytes out;
    sprocket::detail::append_goodbye(out, {CloseReason::kicked, "by myself"});
    REQUIRE(liar.send(out));
    const auto left = next_event(server, EventKind::left);
    CHECK(left.reason == CloseReason::closed_by_peer);
    CHECK(left.detail == "kicked: by myself");
}

TEST_CASE("unusable options are refused at construction") {
    auto options = quick_client();
    options.password = std::string(256, 'p');
    CHECK_THROWS_AS(sprocket::Sprocket("127.0.0.1", 1, options), std::invalid_argument);
    auto server_options = quick_server();
    server_options.timeout = server_options.heartbeat_interval;
    CHECK_THROWS_AS(sprocket::Servo(0, server_options), std::invalid_argument);
}

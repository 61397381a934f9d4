// Attackers that send bytes which are not sprocket's protocol, before or after a handshake.
#include "game.hpp"

#include "../packet/wire_builder.hpp"

#include <random>

using namespace hostile;
using sprocket::Bytes;

namespace {

Bytes random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    Bytes out(n);
    for (auto& b : out) b = static_cast<std::uint8_t>(rng());
    return out;
}

Bytes frame(std::uint8_t kind, const Bytes& body) {
    Bytes out;
    sprocket::append_frame(out, kind, body.data(), body.size());
    return out;
}

constexpr std::uint8_t packet_kind = static_cast<std::uint8_t>(sprocket::FrameKind::packet);

// Joins as a proper client, then sends `bytes`; returns once the server has closed it.
void join_then_send(Game& game, const Bytes& bytes) {
    RawPeer attacker;
    game.let_in(attacker);
    const std::size_t before = game.left.size();
    CHECK(attacker.send(bytes));
    CHECK(game.until([&] { return game.left.size() == before + 1; }));
    CHECK(attacker.wait_closed());
}

}  // namespace

TEST_CASE("random bytes instead of a hello: refused, everyone else unharmed") {
    auto options = quick_server();
    options.handshake_timeout = 2s;  // random bytes may announce a frame that never completes
    Game game(options);
    for (std::uint32_t seed = 1; seed <= 20; ++seed) {
        RawPeer attacker;
        REQUIRE(attacker.connect(game.server.port()));
        attacker.send(random_bytes(4096, seed));  // the server may close before it is all sent
        game.until([&] { return attacker.wait_closed(1ms); });
        CHECK(attacker.wait_closed());
    }
    REQUIRE(game.until([&] { return game.refusals.size() == 20; }));
    for (const auto& r : game.refusals) {
        INFO(r.detail);
        CHECK((r.reason == CloseReason::protocol_error || r.reason == CloseReason::rejected ||
               r.reason == CloseReason::timeout));
    }
    CHECK(game.server.stats().joined == 3);
    game.finish();
}

TEST_CASE("random bytes after a valid handshake: that client is closed with protocol_error") {
    Game game;
    join_then_send(game, random_bytes(4096, 7));
    CHECK(game.stranger_left(CloseReason::protocol_error));
    game.finish();
}

TEST_CASE("a frame header announcing 4 GiB: closed before anything is allocated") {
    Game game;
    join_then_send(game, Bytes{0xff, 0xff, 0xff, 0xff, packet_kind});
    CHECK(game.stranger_left(CloseReason::protocol_error, "too large"));
    game.finish();
}

TEST_CASE("a packet claiming sizes larger than its frame: a decode error, not an allocation") {
    Game game;
    // A string that claims a gigabyte, inside a 20-byte frame.
    const Bytes body = wire::packet(1, {wire::str("k"), wire::byte(wire::string), wire::varint(1u << 30), Bytes{'a', 'b'}});
    join_then_send(game, frame(packet_kind, body));
    CHECK(game.stranger_left(CloseReason::protocol_error, "bad packet"));

    // A list that claims a billion elements.
    const Bytes list = wire::packet(1, {wire::str("k"), wire::byte(wire::list), wire::varint(1'000'000'000)});
    join_then_send(game, frame(packet_kind, list));
    CHECK(game.left.size() == 2);
    game.finish();
}

TEST_CASE("deep nesting: refused at the depth limit, no stack overflow") {
    Game game;
    Bytes nested = wire::cat({wire::str("k")});
    for (int i = 0; i < 100'000; ++i) {
        nested.push_back(wire::list);
        nested.push_back(1);
    }
    nested.push_back(wire::null);
    join_then_send(game, frame(packet_kind, wire::packet(1, {nested})));
    CHECK(game.stranger_left(CloseReason::protocol_error, "too deep"));
    game.finish();
}

TEST_CASE("unknown frame kinds: protocol_error") {
    Game game;
    join_then_send(game, frame(0xee, Bytes{1, 2, 3}));
    CHECK(game.stranger_left(CloseReason::protocol_error));
    game.finish();
}

TEST_CASE("a wrong magic or protocol version: rejected with the reason") {
    Game game;
    {
        RawPeer attacker;
        REQUIRE(attacker.connect(game.server.port()));
        REQUIRE(attacker.hello("sprocket", "", 99));
        const auto reply = attacker.next_frame();
        REQUIRE(reply);
        CHECK(reply->kind == static_cast<std::uint8_t>(sprocket::FrameKind::reject));
        CHECK(attacker.wait_closed());
    }
    {
        RawPeer attacker;
        REQUIRE(attacker.connect(game.server.port()));
        Bytes hello;
        sprocket::detail::append_hello(hello, {sprocket::detail::protocol_version, "sprocket", ""});
        hello[sprocket::frame_header_size] ^= 0xff;  // the magic's first byte
        REQUIRE(attacker.send(hello));
        CHECK(attacker.wait_closed());
    }
    REQUIRE(game.until([&] { return game.refusals.size() == 2; }));
    CHECK(game.refused(CloseReason::rejected, "version mismatch"));
    CHECK(game.refused(CloseReason::rejected, "bad hello"));
    game.finish();
}

TEST_CASE("a password guesser: every guess refused, the password never in a log") {
    auto options = quick_server();
    options.password = "correct horse";
    auto client_options = quick_client();
    client_options.password = "correct horse";
    Game game(options, 3, client_options);
    constexpr int guesses = 200;
    for (int i = 0; i < guesses; ++i) {
        RawPeer guesser;
        REQUIRE(guesser.connect(game.server.port()));
        REQUIRE(guesser.hello("sprocket", "guess " + std::to_string(i)));
        const auto reply = guesser.next_frame();
        REQUIRE(reply);
        CHECK(reply->kind == static_cast<std::uint8_t>(sprocket::FrameKind::reject));
        if (i % 20 == 0) game.turn();
    }
    REQUIRE(game.until([&] { return game.refusals.size() == guesses; }));
    for (const auto& r : game.refusals) {
        CHECK(r.reason == CloseReason::rejected);
        CHECK(r.detail == "wrong password");
    }
    CHECK(game.server.stats().refused == guesses);
    game.finish();
}

// Attackers that hold connections or make too many: slowloris, silence, storms, too many clients.
#include "game.hpp"

#include <sys/socket.h>

using namespace hostile;
using sprocket::Bytes;

TEST_CASE("slowloris: a hello sent one byte per second is dropped at the handshake deadline") {
    auto options = quick_server();
    options.handshake_timeout = 1500ms;
    Game game(options);
    RawPeer attacker;
    REQUIRE(attacker.connect(game.server.port()));
    Bytes hello;
    sprocket::detail::append_hello(hello, {sprocket::detail::protocol_version, "sprocket", ""});
    const auto start = Clock::now();
    std::size_t i = 0;
    // One byte, then wait up to a second for the server to hang up (the game plays meanwhile).
    while (i < hello.size() && attacker.send(Bytes{hello[i++]})) {
        const auto next = Clock::now() + 1s;
        game.until([&] { return attacker.wait_closed(1ms) || Clock::now() >= next; });
        if (attacker.closed()) break;
    }
    CHECK(attacker.closed());
    CHECK(i < hello.size());
    CHECK(Clock::now() - start < 5s);
    REQUIRE(game.until([&] { return game.refused(CloseReason::timeout, "no handshake within 1500 ms"); }));
    game.finish();
}

TEST_CASE("many connections that never speak cannot lock real clients out") {
    auto options = quick_server();
    options.max_pending = 16;
    options.handshake_timeout = 3s;
    Game game(options);
    std::vector<std::unique_ptr<RawPeer>> silent;
    for (int i = 0; i < 100; ++i) {
        silent.push_back(std::make_unique<RawPeer>());
        REQUIRE(silent.back()->connect(game.server.port()));
        if (i % 10 == 0) game.turn();
    }
    // While they hold every pending slot, a real client still gets in: the oldest silent one
    // makes room for it.
    sprocket::Sprocket real("127.0.0.1", game.server.port(), quick_client());
    REQUIRE(game.until([&] { return real.connected(); }));
    CHECK(game.server.stats().pending <= options.max_pending);
    CHECK(game.until([&] { return game.refused(CloseReason::timeout, "evicted"); }));
    // The rest are dropped at the handshake deadline.
    REQUIRE(game.until([&] { return game.server.stats().pending == 0; }));
    std::size_t closed = 0;
    for (auto& peer : silent) closed += peer->wait_closed(1s);
    CHECK(closed == silent.size());
    game.finish();
}

TEST_CASE("a connect/disconnect storm: thousands, bounded in time, nothing left behind") {
    Game game;
    int storm = 0;
    const auto deadline = Clock::now() + 20s;
    while (storm < 2000 && Clock::now() < deadline) {
        RawPeer attacker;
        REQUIRE(attacker.connect(game.server.port()));
        if (storm % 2) attacker.reset();  // half of them reset instead of closing
        ++storm;
        if (storm % 50 == 0) game.turn();
    }
    MESSAGE(storm << " connections opened and closed");
    CHECK(storm >= 500);
    REQUIRE(game.until([&] {
        const auto s = game.server.stats();
        return s.pending == 0 && s.refused == static_cast<std::uint64_t>(storm);
    }));
    CHECK(game.server.stats().clients == 3);
    game.finish();
}

TEST_CASE("more clients than max_clients: the extra ones are told 'server full'") {
    auto options = quick_server();
    options.max_clients = 5;
    Game game(options);  // 3 players
    std::vector<std::unique_ptr<sprocket::Sprocket>> crowd;
    for (int i = 0; i < 10; ++i)
        crowd.push_back(std::make_unique<sprocket::Sprocket>("127.0.0.1", game.server.port(), quick_client()));
    REQUIRE(game.until([&] {
        return std::all_of(crowd.begin(), crowd.end(), [](const auto& c) { return c->status().state != sprocket::State::connecting; });
    }));
    int in = 0, full = 0;
    for (const auto& c : crowd) {
        in += c->connected();
        full += c->status().reason == CloseReason::rejected && c->status().detail == "server full";
    }
    CHECK(in == 2);
    CHECK(full == 8);
    CHECK(game.until([&] { return game.refused(CloseReason::rejected, "server full"); }));
    crowd.clear();  // the two that got in leave; their slots are free for the late client
    game.finish();
}

// Attackers that stop reading, or vanish half-way: the server drops them and loses nothing of others.
#include "game.hpp"

#include <sys/socket.h>

using namespace hostile;
using sprocket::Bytes;

TEST_CASE("a client that never reads while the server sendalls: dropped at its queue limit") {
    auto options = quick_server();
    options.max_send_queue = 256 << 10;
    options.timeout = 60s;  // the overflow, not the heartbeat timeout, must be what drops it
    Game game(options);
    RawPeer attacker;
    REQUIRE(attacker.connect(game.server.port()));
    const int small = 4096;
    ::setsockopt(attacker.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    REQUIRE(attacker.join() != 0);
    const Packet big = Packet::on("bulk", {{"blob", sprocket::Bytes(16 << 10, 0x5a)}});
    // The game goes on; the server also sends everyone a big packet now and then.
    int sent = 0;
    REQUIRE(game.until([&] {
        game.server.sendall(big);
        ++sent;
        return game.stranger_left(CloseReason::queue_overflow);
    }));
    MESSAGE("dropped after " << sent << " big packets");
    game.finish();
}

TEST_CASE("a client that closes mid-frame: it leaves, nothing else is touched") {
    Game game;
    RawPeer attacker;
    game.let_in(attacker);
    Bytes frame;
    sprocket::append_packet_frame(frame, Packet{{"half", std::string(1000, 'h')}});
    frame.resize(frame.size() / 2);
    REQUIRE(attacker.send(frame));
    attacker.socket().disconnect();
    REQUIRE(game.until([&] { return game.stranger_left(CloseReason::closed_by_peer); }));
    game.finish();
}

TEST_CASE("a half-closed socket: the server sees the end and lets it go") {
    Game game;
    RawPeer attacker;
    game.let_in(attacker);
    ::shutdown(attacker.fd(), SHUT_WR);
    REQUIRE(game.until([&] { return game.stranger_left(CloseReason::closed_by_peer); }));
    CHECK(attacker.wait_closed());
    game.finish();
}

TEST_CASE("a peer that resets mid-stream: dropped at once, the others carry on") {
    Game game;
    RawPeer attacker;
    game.let_in(attacker);
    Bytes frames;
    for (int i = 0; i < 100; ++i) sprocket::append_packet_frame(frames, Packet{{"i", i}});
    frames.resize(frames.size() - 3);
    REQUIRE(attacker.send(frames));
    attacker.reset();
    REQUIRE(game.until([&] { return game.left.size() == 1; }));
    CHECK(!game.ours(game.left[0].client));
    game.finish();
}

// Stats: the counters every endpoint keeps for overlays and logs.
#include "helpers.hpp"

#include <sprocket/codec.hpp>

using namespace nettest;
using sprocket::Packet;

TEST_CASE("stats count packets and bytes both ways, on the client and per client on the server") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    CHECK(client.stats().packets_sent == 0);
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));

    const Packet packet{{"x", 1.5}, {"name", "Ada"}};
    const std::size_t body = sprocket::encode(packet).size();
    constexpr int count = 10;
    for (int i = 0; i < count; ++i) REQUIRE(client.send(packet));
    CHECK(client.stats().packets_sent == count);
    REQUIRE(receive(server, count).size() == count);

    const auto on_server = server.clients().at(0).stats;
    CHECK(on_server.packets_received == count);
    CHECK(on_server.packets_sent == 0);
    // Every byte the server read, the client wrote: frames with headers, plus the handshake.
    CHECK(on_server.bytes_received >= count * body);
    const auto sent_by_client = client.stats().bytes_sent;
    CHECK(sent_by_client >= on_server.bytes_received);

    const auto id = server.clients().at(0).id;
    REQUIRE(server.send(id, packet));
    CHECK(server.sendall(packet) == 1);
    REQUIRE(receive(client, 2).size() == 2);
    CHECK(server.clients().at(0).stats.packets_sent == 2);
    const auto on_client = client.stats();
    CHECK(on_client.packets_received == 2);
    CHECK(on_client.bytes_received >= 2 * body);

    // Heartbeats every 50 ms: the RTT shows up in the snapshot.
    CHECK(until(client, [&] { return client.stats().rtt.count() > 0; }));
    CHECK(client.stats().rtt == client.rtt());
}

TEST_CASE("a refused send is not counted") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
    client.close();
    CHECK_FALSE(client.send({{"late", true}}));
    CHECK(client.stats().packets_sent == 0);
    CHECK_FALSE(server.send(12345, Packet{{"nobody", 1}}));
}

TEST_CASE("stats give the lowest round trip and its jitter next to the smoothed one") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
    // Heartbeats every 50 ms: a few samples arrive within a second.
    REQUIRE(until(client, [&] { return client.stats().rtt_min.count() > 0; }));
    const auto stats = client.stats();
    CHECK(stats.rtt_min <= stats.rtt * 2);  // the smoothed value starts at the first sample
    CHECK(stats.rtt_jitter.count() >= 0);
    CHECK(stats.rtt_min <= std::chrono::milliseconds(1000));
}

TEST_CASE("stats count each channel's packets and bytes, and cap how many channels are named") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));
    Packet move{{"x", 1}};
    move.set_channel("move");
    Packet chat{{"text", "hello there"}};
    chat.set_channel("chat");
    for (int i = 0; i < 3; ++i) REQUIRE(client.send(move));
    REQUIRE(client.send(chat));
    REQUIRE(receive(server, 4).size() == 4);

    const auto sent = client.stats().channels;
    REQUIRE(sent.size() == 2);
    CHECK(sent[0].channel == "move");
    CHECK(sent[0].packets_sent == 3);
    CHECK(sent[0].bytes_sent == 3 * (sprocket::frame_header_size + sprocket::encode(move).size()));
    CHECK(sent[1].channel == "chat");
    CHECK(sent[1].packets_sent == 1);
    const auto received = server.clients().at(0).stats.channels;
    REQUIRE(received.size() == 2);
    CHECK(received[0].packets_received == 3);
    CHECK(received[0].bytes_received == sent[0].bytes_sent);
    CHECK(received[1].bytes_received == sent[1].bytes_sent);

    // A peer inventing channel names: 32 are named, the rest are counted together as "*".
    for (int i = 0; i < 100; ++i) {
        Packet p{{"i", i}};
        p.set_channel("made-up-" + std::to_string(i));
        REQUIRE(client.send(p));
    }
    REQUIRE(receive(server, 100).size() == 100);
    const auto capped = server.clients().at(0).stats.channels;
    CHECK(capped.size() == 33);
    CHECK(capped.back().channel == "*");
    CHECK(capped.back().packets_received == 100 - 30);
}

TEST_CASE("stats give packet and byte rates over the last second, and a server its totals") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));
    constexpr int count = 200;
    for (int i = 0; i < count; ++i) REQUIRE(client.send(Packet{{"i", i}}));
    REQUIRE(receive(server, count).size() == count);
    // The first window that saw them closes a second or so after it began.
    REQUIRE(until(server, [&] { return server.clients().at(0).stats.packets_received_per_second > 0; }));
    const auto rate = server.clients().at(0).stats.packets_received_per_second;
    CHECK(rate <= count);  // a window lasts at least a second
    CHECK(rate >= 1.0);
    // Heartbeats (every 50 ms here) keep bytes moving both ways in every window.
    REQUIRE(until(client, [&] { return client.stats().bytes_sent_per_second > 0; }));
    CHECK(client.stats().bytes_received_per_second > 0);

    const auto totals = server.stats();
    CHECK(totals.packets_received == count);
    CHECK(totals.bytes_received >= client.stats().bytes_sent - 1000);  // heartbeats may be on their way
    client.close();
    REQUIRE(until(server, [&] { return server.stats().clients == 0; }));
    // A client that left still counts in the totals, once its connection is fully closed.
    REQUIRE(until(server, [&] { return server.stats().packets_received == count; }));
}

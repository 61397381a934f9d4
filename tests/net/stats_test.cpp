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
    std::vector<sprocket::Event> seen;
    CHECK(pump_until(client, seen, [&](const auto&) { return client.stats().rtt.count() > 0; }));
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

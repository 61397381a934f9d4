// Connecting, sending and receiving both ways, channels, waiting, status and callbacks.
#include "helpers.hpp"

using namespace nettest;
using sprocket::EventKind;
using sprocket::Packet;

TEST_CASE("a client connects, is welcomed with an id, and packets flow both ways") {
    sprocket::Servo server(0, quick_server());
    REQUIRE(server.port() != 0);
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
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
    auto packets = receive(client, 1);
    REQUIRE(packets.size() == 1);
    CHECK(packets[0].get<int>("hp") == 100);
}

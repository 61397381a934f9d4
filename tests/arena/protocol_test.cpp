// The arena's packets: what the server sends reads back the same; garbage reads back as nothing.
#include <doctest/doctest.h>

#include "protocol.hpp"

#include <sprocket/codec.hpp>

#include <cmath>
#include <limits>

using namespace arena;
using sprocket::Packet;

TEST_CASE("a state packet reads back as the world it came from, through the codec") {
    World world(3);
    world.join(1, "Ada");
    world.join(2, "Bob");
    world.push_input(1, Input{Input::right, 1});
    world.tick();
    const auto wire = sprocket::encode(state_packet(world));
    auto decoded = sprocket::decode(wire.data(), wire.size());
    REQUIRE(decoded);
    const Packet packet = std::move(decoded).packet();
    CHECK(packet.channel() == "state");
    const auto snap = read_state(packet);
    REQUIRE(snap);
    CHECK(snap->tick == 1);
    REQUIRE(snap->ships.size() == 2);
    const ShipState* ada = snap->find(1);
    REQUIRE(ada);
    CHECK(ada->ack == 1);
    CHECK(ada->ship.pos.x == doctest::Approx(world.find(1)->ship.pos.x));
    CHECK(ada->ship.vel.x == doctest::Approx(world.find(1)->ship.vel.x));
    REQUIRE(snap->coins.size() == world.coins().size());
    CHECK(snap->coins[0].id == world.coins()[0].id);
    CHECK(snap->find(99) == nullptr);
}

TEST_CASE("the roster and inputs read back") {
    World world;
    world.join(5, "Ada");
    const auto roster = read_roster(roster_packet(world));
    REQUIRE(roster);
    REQUIRE(roster->size() == 1);
    CHECK((*roster)[0].id == 5);
    CHECK((*roster)[0].name == "Ada");
    CHECK((*roster)[0].colour == world.find(5)->colour);

    const auto input = read_input(input_packet(Input{Input::up | Input::left, 77}));
    REQUIRE(input);
    CHECK(input->seq == 77);
    CHECK(input->keys == (Input::up | Input::left));
}

TEST_CASE("malformed packets read as nothing, never as an exception") {
    CHECK_FALSE(read_input(Packet{{"seq", 1}}));
    CHECK_FALSE(read_input(Packet{{"seq", "one"}, {"keys", 1}}));
    CHECK_FALSE(read_input(Packet{{"seq", -1}, {"keys", 1}}));
    CHECK_FALSE(read_input(Packet{{"seq", 1}, {"keys", 16}}));
    CHECK_FALSE(read_input(Packet{{"seq", 1}, {"keys", 1000}}));

    CHECK_FALSE(read_state(Packet{}));
    CHECK_FALSE(read_state(Packet{{"tick", 1}, {"ships", 3}, {"coins", sprocket::List{}}}));
    CHECK_FALSE(read_state(Packet{{"tick", 1}, {"ships", sprocket::List{1, 2}}, {"coins", sprocket::List{}}}));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const sprocket::Value bad_ship{{"id", 1}, {"x", nan}, {"y", 0.0}, {"vx", 0.0}, {"vy", 0.0}, {"a", 0.0}, {"score", 0}, {"ack", 0}};
    CHECK_FALSE(read_state(Packet{{"tick", 1}, {"ships", sprocket::List{bad_ship}}, {"coins", sprocket::List{}}}));
    CHECK(read_state(Packet{{"tick", 1}, {"ships", sprocket::List{}}, {"coins", sprocket::List{}}}));

    CHECK_FALSE(read_roster(Packet{{"players", sprocket::List{sprocket::Value{{"id", 1}}}}}));
    CHECK_FALSE(read_roster(Packet{{"players", "everyone"}}));
}

TEST_CASE("chat lines are trimmed to printable text of bounded length") {
    CHECK(clean_chat("hello") == std::optional<std::string>("hello"));
    CHECK_FALSE(clean_chat("   "));
    CHECK_FALSE(clean_chat("\x01\x02"));
    CHECK(clean_chat("a\nb") == std::optional<std::string>("ab"));
    CHECK(clean_chat(std::string(1000, 'x'))->size() == max_chat);
}

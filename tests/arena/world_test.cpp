// The arena's rules: movement, walls, collisions, coins, scores and input handling.
#include <doctest/doctest.h>

#include "world.hpp"

using namespace arena;

namespace {

Input held(std::uint8_t keys, std::uint32_t seq) { return Input{keys, seq}; }

// Feeds `n` ticks of `keys` to player `id`, one input per tick as a client would.
void hold(World& world, PlayerId id, std::uint8_t keys, int n, std::uint32_t& seq) {
    for (int i = 0; i < n; ++i) {
        world.push_input(id, held(keys, ++seq));
        world.tick();
    }
}

}  // namespace

TEST_CASE("a ship accelerates towards the held keys, up to the speed limit") {
    Ship ship;
    ship.pos = {arena_width / 2, arena_height / 2};
    const Ship one = step(ship, held(Input::right, 1));
    CHECK(one.vel.x > 0);
    CHECK(one.vel.y == doctest::Approx(0));
    CHECK(one.pos.x > ship.pos.x);
    CHECK(one.angle == doctest::Approx(0));
    ship.pos = {arena_width / 2, ship_radius};
    for (int i = 0; i < 50; ++i) ship = step(ship, held(Input::down, 1));  // ~600 units: not at the wall yet
    CHECK(ship.pos.y < arena_height - ship_radius);
    CHECK(length(ship.vel) == doctest::Approx(max_speed));
    CHECK(ship.angle == doctest::Approx(90));

    // Diagonals are not faster than straight lines.
    Ship diag, straight;
    diag.pos = straight.pos = {arena_width / 2, arena_height / 2};
    diag = step(diag, held(Input::up | Input::left, 1));
    straight = step(straight, held(Input::up, 1));
    CHECK(length(diag.vel) == doctest::Approx(length(straight.vel)));
}

TEST_CASE("with no keys held a ship slows down and stops") {
    Ship ship;
    ship.pos = {arena_width / 2, arena_height / 2};
    ship.vel = {300, 0};
    for (int i = 0; i < 120; ++i) ship = step(ship, held(0, 1));
    CHECK(length(ship.vel) < 5);
}

TEST_CASE("walls keep ships inside and bounce them back") {
    Ship ship;
    ship.pos = {arena_width - ship_radius - 1, arena_height / 2};
    ship.vel = {max_speed, 0};
    ship = step(ship, held(Input::right, 1));
    CHECK(ship.pos.x <= arena_width - ship_radius);
    CHECK(ship.vel.x < 0);
    for (int i = 0; i < 300; ++i) ship = step(ship, held(Input::up | Input::left, 1));
    CHECK(ship.pos.x >= ship_radius);
    CHECK(ship.pos.y >= ship_radius);
}

TEST_CASE("a player moves only by its own inputs, one step per input, in sequence") {
    World world;
    world.join(1, "Ada");
    world.join(2, "Bob");
    const Vec2 bob = world.find(2)->ship.pos;
    const Ship start = world.find(1)->ship;

    world.push_input(1, held(Input::right, 1));
    world.push_input(1, held(Input::right, 2));
    world.tick();
    const Ship expected = step(step(start, held(Input::right, 1)), held(Input::right, 2));
    CHECK(world.find(1)->ship.pos.x == doctest::Approx(expected.pos.x));
    CHECK(world.find(1)->last_input == 2);
    CHECK(world.find(2)->ship.pos.x == doctest::Approx(bob.x));  // no input: Bob stays put

    // A tick without input does not move anyone.
    const Vec2 before = world.find(1)->ship.pos;
    world.tick();
    CHECK(world.find(1)->ship.pos.x == doctest::Approx(before.x));
}

TEST_CASE("old, repeated and flooded inputs cannot speed a player up") {
    World world;
    world.join(1, "Ada");
    std::uint32_t seq = 0;
    hold(world, 1, Input::right, 3, seq);
    const Ship after_three = world.find(1)->ship;

    // Replays of applied inputs are ignored.
    world.push_input(1, held(Input::right, 2));
    world.push_input(1, held(Input::right, 3));
    world.tick();
    CHECK(world.find(1)->ship.pos.x == doctest::Approx(after_three.pos.x));

    // Fifty inputs at once: at most two steps per tick, and the queue keeps only a few.
    for (int i = 0; i < 50; ++i) world.push_input(1, held(Input::right, ++seq));
    world.tick();
    CHECK(world.find(1)->last_input == seq - World::max_queued_inputs + World::max_steps_per_tick);
    int ticks = 1;
    while (world.find(1)->last_input != seq) {
        world.tick();
        ++ticks;
    }
    CHECK(ticks == World::max_queued_inputs / World::max_steps_per_tick);
}

TEST_CASE("inputs of an unknown player are ignored") {
    World world;
    world.push_input(42, held(Input::up, 1));
    CHECK(world.tick().empty());
    CHECK(world.players().empty());
}

TEST_CASE("touching a coin scores a point, and the coin respawns elsewhere") {
    World world(7);
    world.join(1, "Ada");
    REQUIRE(world.coins().size() == coin_count);
    const Coin coin = world.coins().front();
    // Steer Ada straight at the coin until she takes it.
    std::uint32_t seq = 0;
    std::vector<Pickup> pickups;
    for (int i = 0; i < 600 && pickups.empty(); ++i) {
        const Player& ada = *world.find(1);
        const Vec2 d = coin.pos - ada.ship.pos - ada.ship.vel * 0.3f;
        std::uint8_t keys = 0;
        if (d.x > 4) keys |= Input::right;
        if (d.x < -4) keys |= Input::left;
        if (d.y > 4) keys |= Input::down;
        if (d.y < -4) keys |= Input::up;
        world.push_input(1, held(keys, ++seq));
        for (const Pickup& p : world.tick())
            if (p.coin == coin.id) pickups.push_back(p);
    }
    REQUIRE(pickups.size() == 1);
    CHECK(pickups[0].player == 1);
    CHECK(world.find(1)->score >= 1);
    CHECK(world.coins().size() == coin_count);
    for (const Coin& c : world.coins()) CHECK(c.id != coin.id);
}

TEST_CASE("overlapping ships are pushed apart") {
    World world;
    world.join(1, "Ada");
    world.join(2, "Bob");
    std::uint32_t seq1 = 0, seq2 = 0;
    // Drive both into the same corner.
    for (int i = 0; i < 200; ++i) {
        world.push_input(1, held(Input::left | Input::up, ++seq1));
        world.push_input(2, held(Input::left | Input::up, ++seq2));
        world.tick();
        const float gap = length(world.find(1)->ship.pos - world.find(2)->ship.pos);
        REQUIRE(gap >= 2 * ship_radius - 0.5f);
    }
}

TEST_CASE("players get distinct colours and clean names") {
    World world;
    for (PlayerId id = 1; id <= 4; ++id) world.join(id, "");
    CHECK(world.find(3)->name == "Player 3");
    for (PlayerId a = 1; a <= 4; ++a)
        for (PlayerId b = a + 1; b <= 4; ++b) CHECK(world.find(a)->colour != world.find(b)->colour);
    world.rename(2, "  Zoë <script>  the_great-1 and more  ");
    CHECK(world.find(2)->name == "Zo script the_gr");
    world.rename(2, "\n\t");
    CHECK(world.find(2)->name == "Zo script the_gr");  // nothing printable: kept
    world.leave(2);
    CHECK(world.find(2) == nullptr);
    CHECK(world.players().size() == 3);
}

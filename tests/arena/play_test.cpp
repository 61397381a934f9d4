// The demo game end to end on 127.0.0.1: a server and bots in this process, real sockets.
#include <doctest/doctest.h>

#include "bot.hpp"
#include "server.hpp"

#include <sprocket/sprocket.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <set>

using namespace arena;
using namespace std::chrono_literals;

namespace {

constexpr auto patience = 30s;  // generous: a noisy 2-core machine under sanitizers

// Runs the server and calls `frame` about every 10 ms (waking early for packets) until `done`
// holds or the deadline passes. True if `done` held.
bool play_until(Server& server, const std::function<void(TimePoint)>& frame, const std::function<bool()>& done,
                std::chrono::milliseconds limit = patience) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
        const auto now = Clock::now();
        if (now > deadline) return false;
        const TimePoint next_tick = server.update(now);
        frame(now);
        server.wait(std::min(next_tick, now + 10ms));
    }
    return true;
}

bool has_line(const Client& client, const std::string& text) {
    return std::any_of(client.feed().begin(), client.feed().end(),
                       [&](const FeedLine& line) { return line.text.find(text) != std::string::npos; });
}

// A ship of our own on `server`, and the keys held for it: `frame` sends them each frame.
struct Pilot {
    Client me;
    std::uint8_t keys = 0;
    bool right = false;  // the way head_for_room() chose
    std::function<void(TimePoint)> frame = [this](TimePoint now) { me.update(now, keys); };

    Pilot(Server& server, ClientMode mode = {}) : me("127.0.0.1", server.port(), "Ada", std::move(mode)) {
        REQUIRE(play_until(server, frame, [&] { return me.view(Clock::now()).me() != nullptr; }));
    }
    // Holds the key toward the side with more room; returns where the drawn ship was then.
    Vec2 head_for_room() {
        const Vec2 start = me.view(Clock::now()).me()->pos;
        right = start.x < arena_width / 2;
        keys = right ? Input::right : Input::left;
        return start;
    }
};

// With the keys let go: plays until the server's ship has stopped, then until the drawn ship
// (prediction) is where the server has it.
void settle(Server& server, const std::function<void(TimePoint)>& frame, const Client& me) {
    REQUIRE(play_until(server, frame, [&] {
        const Player* p = server.world().find(me.id());
        return p && length(p->ship.vel) < 0.5f;
    }));
    REQUIRE(play_until(server, frame, [&] {
        const Player* p = server.world().find(me.id());
        return length(me.view(Clock::now()).me()->pos - p->ship.pos) < 1.0f;
    }));
}

}  // namespace

TEST_CASE("bots play: each sees every other move, and scores change") {
    Server server(0);
    constexpr int count = 4;
    std::vector<std::unique_ptr<Bot>> bots;
    for (int i = 0; i < count; ++i)
        bots.push_back(std::make_unique<Bot>("127.0.0.1", server.port(), "Bot " + std::to_string(i + 1), 100 + i));

    // For each bot: where it first saw each other ship, and which of them it has seen move.
    std::vector<std::map<PlayerId, Vec2>> first_seen(count);
    std::vector<std::set<PlayerId>> seen_moving(count);
    const auto frame = [&](TimePoint now) {
        for (std::size_t i = 0; i < bots.size(); ++i) {
            bots[i]->update(now);
            const Snapshot* snap = bots[i]->client().latest();
            if (!snap) continue;
            for (const ShipState& ship : snap->ships) {
                if (ship.id == bots[i]->client().id()) continue;
                const auto [it, fresh] = first_seen[i].emplace(ship.id, ship.ship.pos);
                if (!fresh && length(ship.ship.pos - it->second) > 50) seen_moving[i].insert(ship.id);
            }
        }
    };
    const auto everyone_moved = [&] {
        for (int i = 0; i < count; ++i)
            if (seen_moving[i].size() != count - 1) return false;
        int scored = 0;
        for (const auto& [id, player] : server.world().players()) scored += player.score > 0;
        return scored >= 2;
    };
    REQUIRE(play_until(server, frame, everyone_moved));
    CHECK(server.world().players().size() == count);
    for (int i = 0; i < count; ++i) {
        const Client& client = bots[i]->client();
        CHECK(client.connection().connected());
        CHECK(client.snapshots() > 10);
        CHECK(client.roster().size() == count);
        CHECK(has_line(client, "Bot " + std::to_string(i + 1) + " joined"));  // everyone hears of a join
    }
    for (const auto& [id, player] : server.world().players()) CHECK(player.name.rfind("Bot ", 0) == 0);

    // One leaves: the others are told, with the reason.
    bots.pop_back();
    REQUIRE(play_until(server, frame, [&] { return has_line(bots[0]->client(), "Bot 4 left"); }));
    CHECK(server.world().players().size() == count - 1);
}

TEST_CASE("the own ship moves at once (prediction) and agrees with the server once it answers") {
    Server server(0);
    Pilot pilot(server);
    Client& me = pilot.me;
    std::uint8_t& keys = pilot.keys;
    const auto& frame = pilot.frame;

    // The server pauses (no ticks, no states), yet holding a key moves the drawn ship at once:
    // that is prediction. Head for the side with more room.
    const Vec2 start = pilot.head_for_room();
    const bool right = pilot.right;
    const std::uint64_t heard = me.snapshots();
    const auto moved = [&] {
        const float dx = me.view(Clock::now()).me()->pos.x - start.x;
        return right ? dx : -dx;
    };
    const auto deadline = Clock::now() + patience;
    while (moved() < 30 && Clock::now() < deadline) {
        me.update(Clock::now(), keys);
        me.wait(10ms);  // the paused server sends nothing: this paces the loop
    }
    CHECK(moved() >= 30);
    CHECK(me.snapshots() == heard);  // all of it before the server said a word
    CHECK(me.unacknowledged() > 0);

    // Let go: once every input is applied and the ship has stopped, prediction = the server.
    keys = 0;
    settle(server, frame, me);
}

TEST_CASE("at a simulated 150 ms ping the own ship still moves at once and settles where the server has it") {
    Server server(0);
    Pilot pilot(server, ClientMode{false, "", sprocket::Simulation::parse("latency=150ms jitter=20ms")});
    Client& me = pilot.me;
    const auto& frame = pilot.frame;
    const Vec2 start = pilot.head_for_room();
    // The drawn ship moves while the newest state from the server still has it where it was:
    // that state cannot confirm a move until 150 ms after the key went down.
    REQUIRE(play_until(server, frame, [&] { return std::abs(me.view(Clock::now()).me()->pos.x - start.x) > 1.0f; }));
    const Snapshot* confirmed = me.latest();
    REQUIRE(confirmed != nullptr);
    for (const ShipState& ship : confirmed->ships) {
        if (ship.id == me.id()) CHECK(std::abs(ship.ship.pos.x - start.x) < 0.01f);
    }
    pilot.keys = 0;
    settle(server, frame, me);
    // The first heartbeat's round trip may still be on its way when the ship has settled.
    REQUIRE(play_until(server, frame, [&] { return me.connection().stats().rtt_min > 0ms; }));
    CHECK(me.connection().stats().rtt_min >= 150ms);
}

TEST_CASE("chat reaches everyone, and a peer speaking another protocol is kicked while the game goes on") {
    Server server(0);
    Client ada("127.0.0.1", server.port(), "Ada");
    Client bob("127.0.0.1", server.port(), "Bob");
    const auto frame = [&](TimePoint now) {
        ada.update(now, Input::left);
        bob.update(now, 0);
    };
    REQUIRE(play_until(server, frame, [&] { return ada.roster().size() == 2 && bob.roster().size() == 2; }));
    ada.chat("gg \x01");
    REQUIRE(play_until(server, frame, [&] { return has_line(bob, "Ada: gg"); }));

    sprocket::SprocketOptions options;
    options.application = "sprocket-arena";
    sprocket::Sprocket stranger("127.0.0.1", server.port(), options);
    stranger.send(sprocket::Packet::on("input", {{"seq", "not a number"}}));
    REQUIRE(play_until(server, frame, [&] { return stranger.status().state == sprocket::State::disconnected; }));
    CHECK(stranger.status().reason == sprocket::CloseReason::kicked);
    CHECK(server.kicked() == 1);
    REQUIRE(play_until(server, frame, [&] { return has_line(bob, "was kicked: not an arena packet"); }));
    CHECK(server.world().players().size() == 2);
    CHECK(ada.connection().connected());
}

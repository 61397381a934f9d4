#include "protocol.hpp"

#include <cmath>

namespace arena {

using sprocket::List;
using sprocket::Map;
using sprocket::Packet;
using sprocket::Value;

namespace {

const List* list_of(const Packet& packet, std::string_view key) {
    const Value* value = packet.find(key);
    return value ? value->get_if<List>() : nullptr;
}

// A finite float from the map; nothing when absent, of the wrong type or not finite.
std::optional<float> number(const Map& map, std::string_view key) {
    const auto v = map.try_get<double>(key);
    if (!v || !std::isfinite(*v)) return std::nullopt;
    return static_cast<float>(*v);
}

}  // namespace

const ShipState* Snapshot::find(PlayerId id) const {
    for (const ShipState& s : ships)
        if (s.id == id) return &s;
    return nullptr;
}

Packet input_packet(const Input& input) {
    return Packet::on("input", {{"seq", input.seq}, {"keys", input.keys}});
}

std::optional<Input> read_input(const Packet& packet) {
    const auto seq = packet.try_get<std::uint32_t>("seq");
    const auto keys = packet.try_get<std::uint8_t>("keys");
    if (!seq || !keys || *keys > 15) return std::nullopt;
    return Input{*keys, *seq};
}

Packet state_packet(const World& world) {
    List ships;
    ships.reserve(world.players().size());
    for (const auto& [id, p] : world.players()) {
        ships.push_back(Value{{"id", id},
                              {"x", p.ship.pos.x},
                              {"y", p.ship.pos.y},
                              {"vx", p.ship.vel.x},
                              {"vy", p.ship.vel.y},
                              {"a", p.ship.angle},
                              {"score", p.score},
                              {"ack", p.last_input}});
    }
    List coins;
    coins.reserve(world.coins().size());
    for (const Coin& c : world.coins()) coins.push_back(Value{{"id", c.id}, {"x", c.pos.x}, {"y", c.pos.y}});
    Packet packet{{"tick", world.tick_count()}, {"ships", std::move(ships)}, {"coins", std::move(coins)}};
    packet.set_channel("state");
    return packet;
}

std::optional<Snapshot> read_state(const Packet& packet) {
    Snapshot snap;
    const auto tick = packet.try_get<std::uint64_t>("tick");
    const List* ships = list_of(packet, "ships");
    const List* coins = list_of(packet, "coins");
    if (!tick || !ships || !coins) return std::nullopt;
    snap.tick = *tick;
    for (const Value& v : *ships) {
        const Map* m = v.get_if<Map>();
        if (!m) return std::nullopt;
        const auto id = m->try_get<PlayerId>("id");
        const auto x = number(*m, "x"), y = number(*m, "y"), vx = number(*m, "vx"), vy = number(*m, "vy");
        const auto a = number(*m, "a");
        const auto score = m->try_get<int>("score");
        const auto ack = m->try_get<std::uint32_t>("ack");
        if (!id || !x || !y || !vx || !vy || !a || !score || !ack) return std::nullopt;
        snap.ships.push_back(ShipState{*id, Ship{{*x, *y}, {*vx, *vy}, *a}, *score, *ack});
    }
    for (const Value& v : *coins) {
        const Map* m = v.get_if<Map>();
        if (!m) return std::nullopt;
        const auto id = m->try_get<std::uint32_t>("id");
        const auto x = number(*m, "x"), y = number(*m, "y");
        if (!id || !x || !y) return std::nullopt;
        snap.coins.push_back(Coin{*id, {*x, *y}});
    }
    return snap;
}

Packet roster_packet(const World& world) {
    List players;
    for (const auto& [id, p] : world.players())
        players.push_back(Value{{"id", id}, {"name", p.name}, {"colour", p.colour}});
    return Packet::on("roster", {{"players", std::move(players)}});
}

std::optional<std::vector<RosterEntry>> read_roster(const Packet& packet) {
    const List* players = list_of(packet, "players");
    if (!players) return std::nullopt;
    std::vector<RosterEntry> roster;
    for (const Value& v : *players) {
        const Map* m = v.get_if<Map>();
        if (!m) return std::nullopt;
        const auto id = m->try_get<PlayerId>("id");
        const auto name = m->try_get<std::string>("name");
        const auto colour = m->try_get<std::uint32_t>("colour");
        if (!id || !name || !colour) return std::nullopt;
        roster.push_back(RosterEntry{*id, clean_name(*name, "?"), *colour});
    }
    return roster;
}

std::optional<std::string> clean_chat(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (c >= 0x20 && c < 0x7f) out += c;
        if (out.size() == max_chat) break;
    }
    if (out.find_first_not_of(' ') == std::string::npos) return std::nullopt;
    return out;
}

}  // namespace arena

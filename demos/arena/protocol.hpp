#pragma once
// What the arena's packets look like, one channel per kind, and how they are read back.
// Readers never throw on bad input from the network: they return nothing instead.
//
//   client → server   "input"  {seq, keys}          one per tick
//                     "name"   {name}               once, after connecting
//                     "chat"   {text}
//   server → client   "state"  {tick, ships: [{id, x, y, vx, vy, a, score, ack}], coins: [{id, x, y}]}
//                     "roster" {players: [{id, name, colour}]}   when someone joins, leaves or renames
//                     "chat"   {id, name, text}
//                     "notice" {text}                            "Player 3 left: timeout"
#include "world.hpp"

#include <sprocket/packet.hpp>

#include <optional>
#include <string>
#include <vector>

namespace arena {

inline constexpr std::size_t max_chat = 120;

struct ShipState {
    PlayerId id = 0;
    Ship ship;
    int score = 0;
    std::uint32_t ack = 0;  // the last input of this player the server applied
};

/// One tick of the world as a client sees it.
struct Snapshot {
    std::uint64_t tick = 0;
    std::vector<ShipState> ships;
    std::vector<Coin> coins;
    const ShipState* find(PlayerId id) const;
};

struct RosterEntry {
    PlayerId id = 0;
    std::string name;
    std::uint32_t colour = 0;
};

sprocket::Packet input_packet(const Input& input);
std::optional<Input> read_input(const sprocket::Packet& packet);

sprocket::Packet state_packet(const World& world);
std::optional<Snapshot> read_state(const sprocket::Packet& packet);

sprocket::Packet roster_packet(const World& world);
std::optional<std::vector<RosterEntry>> read_roster(const sprocket::Packet& packet);

/// A chat line, trimmed to `max_chat` bytes of printable ASCII; nothing if that leaves it empty.
std::optional<std::string> clean_chat(const std::string& text);

}  // namespace arena

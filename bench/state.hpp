#pragma once
// The reference state packet every benchmark sends: one player's state, as a game holds it,
// and the same state in each transport's shape.
//
//   sprocket:   {"id": 17, "name": "Player 1", "x": 312.5, "y": -48.25, "angle": 1.25, "hp": 100, "alive": true}
//   sf::Packet: positional fields, no keys (Int32, string, 3 float, Int32, bool)
//   raw bytes:  a fixed 32-byte layout (raw TCP and ENet carry it as it is)
//
// The network benchmarks put a sequence number in "id".

#include <sprocket/packet.hpp>

#include <SFML/Network/Packet.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <tuple>

namespace bench {

struct PlayerState {
    std::int32_t id = 17;
    std::string name = "Player 1";
    float x = 312.5f;
    float y = -48.25f;
    float angle = 1.25f;
    std::int32_t hp = 100;
    bool alive = true;

    friend bool operator==(const PlayerState& a, const PlayerState& b) {
        return std::tie(a.id, a.name, a.x, a.y, a.angle, a.hp, a.alive) ==
               std::tie(b.id, b.name, b.x, b.y, b.angle, b.hp, b.alive);
    }
};

/// Calls `use(fields)` with the state as a packet literal, the way a game writes it:
/// `client.send({{"id", s.id}, {"name", s.name}, ...})`.
template <class Use>
decltype(auto) with_fields(const PlayerState& s, Use&& use) {
    return use(std::initializer_list<sprocket::Map::Field>{{"id", s.id},       {"name", s.name}, {"x", s.x},
                                                           {"y", s.y},         {"angle", s.angle},
                                                           {"hp", s.hp},       {"alive", s.alive}});
}

inline sprocket::Packet to_packet(const PlayerState& s) {
    return with_fields(s, [](std::initializer_list<sprocket::Map::Field> fields) { return sprocket::Packet(fields); });
}

// sf::Packet is positional: fields go in and come out in the same order, without keys.
inline sf::Packet& operator<<(sf::Packet& out, const PlayerState& s) {
    return out << sf::Int32{s.id} << s.name << s.x << s.y << s.angle << sf::Int32{s.hp} << s.alive;
}
inline sf::Packet& operator>>(sf::Packet& in, PlayerState& s) {
    return in >> s.id >> s.name >> s.x >> s.y >> s.angle >> s.hp >> s.alive;
}

// The raw layout: id, x, y, angle, hp (4 bytes each, this machine's byte order), alive, the
// name's length, then up to 10 bytes of name. Both ends run on this machine.
inline constexpr std::size_t raw_state_size = 32;

inline void write_raw(const PlayerState& s, std::uint8_t* out) {
    std::memset(out, 0, raw_state_size);
    std::memcpy(out, &s.id, 4);
    std::memcpy(out + 4, &s.x, 4);
    std::memcpy(out + 8, &s.y, 4);
    std::memcpy(out + 12, &s.angle, 4);
    std::memcpy(out + 16, &s.hp, 4);
    out[20] = s.alive ? 1 : 0;
    const std::size_t n = std::min<std::size_t>(s.name.size(), 10);
    out[21] = static_cast<std::uint8_t>(n);
    std::memcpy(out + 22, s.name.data(), n);
}

inline PlayerState read_raw(const std::uint8_t* in) {
    PlayerState s;
    std::memcpy(&s.id, in, 4);
    std::memcpy(&s.x, in + 4, 4);
    std::memcpy(&s.y, in + 8, 4);
    std::memcpy(&s.angle, in + 12, 4);
    std::memcpy(&s.hp, in + 16, 4);
    s.alive = in[20] != 0;
    s.name.assign(reinterpret_cast<const char*>(in + 22), std::min<std::size_t>(in[21], 10));
    return s;
}

}  // namespace bench

#pragma once
// The arena's rules: ships, coins, scores. Pure simulation: no window, no sockets, no clock.
// The server runs it at a fixed tick; clients run `step` on their own ship to predict it.
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace arena {

struct Vec2 {
    float x = 0;
    float y = 0;
};
inline Vec2 operator+(Vec2 a, Vec2 b) { return {a.x + b.x, a.y + b.y}; }
inline Vec2 operator-(Vec2 a, Vec2 b) { return {a.x - b.x, a.y - b.y}; }
inline Vec2 operator*(Vec2 a, float k) { return {a.x * k, a.y * k}; }
float length(Vec2 v);
Vec2 lerp(Vec2 a, Vec2 b, float t);

using PlayerId = std::uint32_t;

inline constexpr int tick_rate = 30;  // server ticks (and client inputs) per second
inline constexpr float tick_seconds = 1.0f / tick_rate;
inline constexpr float arena_width = 1280;
inline constexpr float arena_height = 800;
inline constexpr float ship_radius = 20;
inline constexpr float coin_radius = 13;
inline constexpr float thrust = 1100;     // units/s² while a direction key is held
inline constexpr float max_speed = 360;   // units/s
inline constexpr float drag = 2.2f;       // fraction of speed lost per second, roughly
inline constexpr std::size_t coin_count = 12;
inline constexpr std::size_t max_name = 16;

/// The keys held during one tick, numbered so the server can say which it has applied.
struct Input {
    enum Key : std::uint8_t { up = 1, down = 2, left = 4, right = 8 };
    std::uint8_t keys = 0;
    std::uint32_t seq = 0;
};

/// A ship's motion: everything `step` needs, so client and server agree on where it goes.
struct Ship {
    Vec2 pos;
    Vec2 vel;
    float angle = 0;  // degrees, 0 = facing +x; follows the velocity
};

/// One tick of a ship under `input`: thrust, drag, speed limit, bounce off the walls.
Ship step(Ship ship, const Input& input);

struct Player {
    PlayerId id = 0;
    std::string name;
    std::uint32_t colour = 0xffffffff;  // RGBA
    Ship ship;
    int score = 0;
    std::uint32_t last_input = 0;  // seq of the last input applied
};

struct Coin {
    std::uint32_t id = 0;
    Vec2 pos;
};

/// Something that happened during a tick, for effects and logs.
struct Pickup {
    PlayerId player = 0;
    std::uint32_t coin = 0;
    Vec2 pos;
};

/// A printable name: ASCII letters, digits, space, '-' and '_' kept, at most `max_name` bytes;
/// empty → `fallback`.
std::string clean_name(const std::string& name, const std::string& fallback);

/// The whole game state on the server.
class World {
public:
    explicit World(std::uint32_t seed = 1);

    /// Adds a player at a free spot, with a colour of its own. Returns it.
    Player& join(PlayerId id, std::string name);
    void leave(PlayerId id);
    void rename(PlayerId id, const std::string& name);
    /// Queues an input; it is applied at the next `tick`. Inputs older than the last applied
    /// one are ignored, and at most a few are kept (a client cannot move faster by flooding).
    void push_input(PlayerId id, const Input& input);
    /// Advances one tick: applies queued inputs (one step each, at most `max_steps_per_tick`),
    /// pushes overlapping ships apart, collects coins, respawns them.
    std::vector<Pickup> tick();

    const std::map<PlayerId, Player>& players() const { return players_; }
    const std::vector<Coin>& coins() const { return coins_; }
    std::uint64_t tick_count() const { return ticks_; }
    const Player* find(PlayerId id) const;

    static constexpr std::size_t max_queued_inputs = 6;
    static constexpr std::size_t max_steps_per_tick = 2;

private:
    Vec2 free_spot(float radius);
    void spawn_coin();

    std::mt19937 rng_;
    std::map<PlayerId, Player> players_;
    std::map<PlayerId, std::vector<Input>> inputs_;
    std::vector<Coin> coins_;
    std::uint32_t next_coin_ = 1;
    std::uint64_t ticks_ = 0;
    std::size_t joined_ = 0;
};

}  // namespace arena

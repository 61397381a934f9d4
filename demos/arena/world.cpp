#include "world.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace arena {

namespace {

constexpr float pi = 3.14159265f;

// Bright, distinct colours on a dark floor; players take them in turn.
constexpr std::uint32_t palette[] = {
    0x4fc3f7ff,  // sky
    0xff8a65ff,  // coral
    0xaed581ff,  // lime
    0xba68c8ff,  // violet
    0xffd54fff,  // amber
    0x4db6acff,  // teal
    0xf06292ff,  // pink
    0x90a4aeff,  // steel
};

float clampf(float v, float lo, float hi) { return std::max(lo, std::min(v, hi)); }

}  // namespace

float length(Vec2 v) { return std::sqrt(v.x * v.x + v.y * v.y); }

Vec2 lerp(Vec2 a, Vec2 b, float t) { return a + (b - a) * t; }

Ship step(Ship ship, const Input& input) {
    Vec2 dir;
    if (input.keys & Input::up) dir.y -= 1;
    if (input.keys & Input::down) dir.y += 1;
    if (input.keys & Input::left) dir.x -= 1;
    if (input.keys & Input::right) dir.x += 1;
    const float len = length(dir);
    if (len > 0) dir = dir * (1 / len);

    ship.vel = ship.vel + dir * (thrust * tick_seconds);
    ship.vel = ship.vel * std::max(0.0f, 1 - drag * tick_seconds);
    const float speed = length(ship.vel);
    if (speed > max_speed) ship.vel = ship.vel * (max_speed / speed);
    ship.pos = ship.pos + ship.vel * tick_seconds;

    // Bounce off the walls, losing some speed.
    if (ship.pos.x < ship_radius || ship.pos.x > arena_width - ship_radius) {
        ship.pos.x = clampf(ship.pos.x, ship_radius, arena_width - ship_radius);
        ship.vel.x = -ship.vel.x * 0.6f;
    }
    if (ship.pos.y < ship_radius || ship.pos.y > arena_height - ship_radius) {
        ship.pos.y = clampf(ship.pos.y, ship_radius, arena_height - ship_radius);
        ship.vel.y = -ship.vel.y * 0.6f;
    }
    if (length(ship.vel) > 20) ship.angle = std::atan2(ship.vel.y, ship.vel.x) * 180 / pi;
    return ship;
}

std::string clean_name(const std::string& name, const std::string& fallback) {
    std::string out;
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        const bool space = c == ' ';
        if (!(std::isalnum(u) || space || c == '-' || c == '_')) continue;
        if (space && (out.empty() || out.back() == ' ')) continue;  // no leading or double spaces
        out += c;
        if (out.size() == max_name) break;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out.empty() ? fallback : out;
}

World::World(std::uint32_t seed) : rng_(seed) {
    while (coins_.size() < coin_count) spawn_coin();
}

Vec2 World::free_spot(float radius) {
    std::uniform_real_distribution<float> x(radius + 40, arena_width - radius - 40);
    std::uniform_real_distribution<float> y(radius + 40, arena_height - radius - 40);
    Vec2 best{x(rng_), y(rng_)};
    float best_gap = -1;
    // The candidate farthest from every ship and coin, out of a handful.
    for (int attempt = 0; attempt < 16; ++attempt) {
        const Vec2 p{x(rng_), y(rng_)};
        float gap = 1e9f;
        for (const auto& [id, player] : players_) gap = std::min(gap, length(player.ship.pos - p));
        for (const Coin& coin : coins_) gap = std::min(gap, length(coin.pos - p));
        if (gap > best_gap) {
            best = p;
            best_gap = gap;
        }
    }
    return best;
}

void World::spawn_coin() { coins_.push_back(Coin{next_coin_++, free_spot(coin_radius)}); }

Player& World::join(PlayerId id, std::string name) {
    Player player;
    player.id = id;
    player.name = clean_name(name, "Player " + std::to_string(id));
    player.colour = palette[joined_++ % std::size(palette)];
    player.ship.pos = free_spot(ship_radius);
    inputs_[id].clear();
    return players_[id] = player;
}

void World::leave(PlayerId id) {
    players_.erase(id);
    inputs_.erase(id);
}

void World::rename(PlayerId id, const std::string& name) {
    auto it = players_.find(id);
    if (it != players_.end()) it->second.name = clean_name(name, it->second.name);
}

const Player* World::find(PlayerId id) const {
    auto it = players_.find(id);
    return it == players_.end() ? nullptr : &it->second;
}

void World::push_input(PlayerId id, const Input& input) {
    auto player = players_.find(id);
    if (player == players_.end()) return;
    auto& queue = inputs_[id];
    const std::uint32_t newest = queue.empty() ? player->second.last_input : queue.back().seq;
    if (input.seq <= newest) return;  // a replay or out of order: already past it
    queue.push_back(input);
    if (queue.size() > max_queued_inputs) queue.erase(queue.begin());
}

std::vector<Pickup> World::tick() {
    ++ticks_;
    for (auto& [id, player] : players_) {
        auto& queue = inputs_[id];
        // Normally one input per tick; two when the network bunched them up.
        const std::size_t n = std::min(queue.size(), max_steps_per_tick);
        for (std::size_t i = 0; i < n; ++i) {
            player.ship = step(player.ship, queue[i]);
            player.last_input = queue[i].seq;
        }
        queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(n));
    }

    // Ships that overlap push each other apart and trade some momentum.
    for (auto a = players_.begin(); a != players_.end(); ++a) {
        for (auto b = std::next(a); b != players_.end(); ++b) {
            Ship& sa = a->second.ship;
            Ship& sb = b->second.ship;
            const Vec2 d = sb.pos - sa.pos;
            const float dist = length(d);
            if (dist >= 2 * ship_radius) continue;
            const Vec2 n = dist > 0.001f ? d * (1 / dist) : Vec2{1, 0};
            const float push = (2 * ship_radius - dist) / 2;
            sa.pos = sa.pos - n * push;
            sb.pos = sb.pos + n * push;
            const float closing = (sa.vel.x - sb.vel.x) * n.x + (sa.vel.y - sb.vel.y) * n.y;
            if (closing > 0) {
                sa.vel = sa.vel - n * closing;
                sb.vel = sb.vel + n * closing;
            }
        }
    }

    std::vector<Pickup> pickups;
    for (auto& [id, player] : players_) {
        for (auto coin = coins_.begin(); coin != coins_.end();) {
            if (length(coin->pos - player.ship.pos) < ship_radius + coin_radius) {
                ++player.score;
                pickups.push_back(Pickup{id, coin->id, coin->pos});
                coin = coins_.erase(coin);
            } else {
                ++coin;
            }
        }
    }
    while (coins_.size() < coin_count) spawn_coin();
    return pickups;
}

}  // namespace arena

#include "bot.hpp"

#include <cmath>

namespace arena {

Brain::Brain(std::uint32_t seed) : rng_(seed) {}

std::uint8_t Brain::decide(const View& view, TimePoint now) {
    const View::ShipView* me = view.me();
    if (!me) return 0;
    if (now >= next_wander_) {
        std::uniform_real_distribution<float> d(-140, 140);
        wander_ = {d(rng_), d(rng_)};
        next_wander_ = now + std::chrono::milliseconds(std::uniform_int_distribution<int>(400, 1200)(rng_));
    }

    // The nearest coin that no other ship is clearly closer to; else the nearest at all.
    const Coin* target = nullptr;
    float best = 1e9f;
    for (const Coin& coin : view.coins) {
        const float mine = length(coin.pos - me->pos);
        bool contested = false;
        for (const View::ShipView& other : view.ships)
            if (!other.me && length(coin.pos - other.pos) + 60 < mine) contested = true;
        const float cost = mine + (contested ? 400 : 0);
        if (cost < best) {
            best = cost;
            target = &coin;
        }
    }
    Vec2 goal = target ? target->pos + wander_ * 0.25f : Vec2{arena_width / 2, arena_height / 2} + wander_;
    const Vec2 d = goal - me->pos;

    std::uint8_t keys = 0;
    constexpr float deadzone = 12;
    if (d.x > deadzone) keys |= Input::right;
    if (d.x < -deadzone) keys |= Input::left;
    if (d.y > deadzone) keys |= Input::down;
    if (d.y < -deadzone) keys |= Input::up;
    return keys;
}

Bot::Bot(const std::string& host, std::uint16_t port, std::string name, std::uint32_t seed,
         const sprocket::Simulation& sim)
    : client_(host, port, std::move(name), ClientMode{false, "", sim}), brain_(seed) {}

}  // namespace arena

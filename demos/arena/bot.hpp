#pragma once
// A headless player with simple rules: chase the nearest coin nobody else is closer to, steer
// around the walls, and wander a little so no two bots move alike.
#include "client.hpp"

#include <random>

namespace arena {

/// The rules alone: keys to hold, given what the bot sees. No sockets: testable on its own.
class Brain {
public:
    explicit Brain(std::uint32_t seed);
    std::uint8_t decide(const View& view, TimePoint now);

private:
    std::mt19937 rng_;
    Vec2 wander_;
    TimePoint next_wander_{};
};

/// A bot: a `Client` driven by a `Brain`.
class Bot {
public:
    Bot(const std::string& host, std::uint16_t port, std::string name, std::uint32_t seed,
        const sprocket::Simulation& sim = {});
    void update(TimePoint now) { client_.update(now, brain_.decide(client_.view(now), now)); }
    const Client& client() const { return client_; }

private:
    Client client_;
    Brain brain_;
};

}  // namespace arena

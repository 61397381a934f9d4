#pragma once
// Drawing the arena with SFML graphics: the floor, coins, ships with names, the score table,
// the feed and chat line, and the network overlay (F3/Tab) with a live RTT graph.
#include "client.hpp"

#include <SFML/Graphics.hpp>

#include <deque>
#include <optional>
#include <string>

namespace arena {

/// The font and sprites from assets/arena.
struct Assets {
    sf::Font font;
    sf::Font bold;
    sf::Texture ship, coin, floor, glow, spark;
    /// Loads everything from `dir`; false with `error` set when a file is missing or unreadable.
    bool load(const std::string& dir, std::string& error);
};

/// The folder with the game's assets: $SPROCKET_ASSETS, else the first `assets/arena` found
/// walking up from the executable, then from the current folder, then the source tree's.
std::optional<std::string> find_assets(const char* argv0);

/// Rates and an RTT history, sampled from `Stats` snapshots (the overlay's data).
class NetMonitor {
public:
    /// Packets per second of one channel, each way.
    struct ChannelRate {
        std::string channel;
        double in = 0, out = 0;
    };
    void sample(TimePoint now, const sprocket::Stats& stats);
    /// The newest snapshot: RTTs, rates over the last second, queues.
    const sprocket::Stats& stats() const { return stats_; }
    double rtt_ms() const { return static_cast<double>(stats_.rtt.count()) / 1000.0; }
    /// Per channel, over the last half second or more.
    const std::vector<ChannelRate>& channels() const { return channels_; }
    /// RTT samples in ms, oldest first, one per `sample_every`, over the last `history` seconds.
    const std::deque<double>& history() const { return history_; }
    static constexpr auto sample_every = std::chrono::milliseconds(100);
    static constexpr std::size_t history_size = 100;  // 10 s

private:
    TimePoint last_rate_{};
    TimePoint last_sample_{};
    sprocket::Stats stats_{};
    std::vector<sprocket::ChannelStats> last_channels_;
    std::vector<ChannelRate> channels_;
    std::deque<double> history_;
};

/// What the window shows besides the world.
struct Hud {
    bool overlay = false;
    bool typing = false;
    std::string chat_line;
    std::string server;  // "127.0.0.1:4242"
    std::string sim;     // the simulated network, as --sim takes it ("" = none)
};

class Renderer {
public:
    explicit Renderer(const Assets& assets) : assets_(assets) {}
    /// One frame into `target` (sized like the window); `t` in seconds drives animations.
    void draw(sf::RenderTarget& target, const Client& client, const View& view, const NetMonitor& net,
              const Hud& hud, TimePoint now);

private:
    void draw_world(sf::RenderTarget& target, const View& view, float t);
    void draw_scores(sf::RenderTarget& target, const Client& client, const View& view);
    void draw_feed(sf::RenderTarget& target, const Client& client, const Hud& hud, TimePoint now);
    void draw_overlay(sf::RenderTarget& target, const NetMonitor& net, const Hud& hud);
    void draw_banner(sf::RenderTarget& target, const Client& client, const Hud& hud);
    void track_pickups(const View& view, float t);
    sf::Text text(const std::string& s, unsigned size, sf::Color colour, bool bold = false) const;

    struct Spark {
        sf::Vector2f pos, vel;
        sf::Color colour;
        float born = 0;
    };
    const Assets& assets_;
    std::vector<Coin> last_coins_;
    std::vector<Spark> sparks_;
    float start_ = -1;
};

}  // namespace arena

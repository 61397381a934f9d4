#pragma once
// A player's side of the arena, without graphics: sends the keys held once per tick, predicts
// its own ship with the same `step` the server runs, and interpolates everyone else between
// the server's snapshots. The window, the bots and the tests all drive it the same way.
#include "protocol.hpp"
#include "server.hpp"

#include <sprocket/sprocket.hpp>

#include <deque>
#include <map>
#include <string>
#include <vector>

namespace arena {

/// Everything to draw for one frame.
struct View {
    struct ShipView {
        PlayerId id = 0;
        std::string name;
        std::uint32_t colour = 0xffffffff;
        Vec2 pos;
        float angle = 0;
        int score = 0;
        bool me = false;
    };
    std::vector<ShipView> ships;  // the own ship last, so it is drawn on top
    std::vector<Coin> coins;
    const ShipView* me() const;
};

/// A line for the feed: joins, leaves, chat, connection trouble.
struct FeedLine {
    enum Kind : std::uint8_t { notice, chat, trouble };
    Kind kind = notice;
    std::string text;
    TimePoint at{};
};

/// How a Client takes part.
struct ClientMode {
    /// A spectator (watching a replay): sends nothing and has no ship of its own.
    bool watch = false;
    /// A file to record the connection to (sprocket/recording.hpp); "" = off.
    std::string record;
    /// A simulated network for this client's connection (`--sim`); none by default.
    sprocket::Simulation sim;
};

class Client {
public:
    /// Starts connecting (reconnecting on its own if the connection is lost). Throws
    /// std::system_error when `mode.record` cannot be created.
    Client(const std::string& host, std::uint16_t port, std::string name, ClientMode mode = {});

    /// Drains the network; sends one input per tick due with `keys` (Input::Key bits).
    void update(TimePoint now, std::uint8_t keys);
    /// Where everything is at `now`: others ~100 ms in the past, smoothly; the own ship predicted.
    View view(TimePoint now) const;
    /// Waits up to `timeout` for something from the server (for loops with nothing else to wait on).
    void wait(std::chrono::milliseconds timeout) { link_.wait(timeout); }
    void chat(const std::string& text);

    /// The feed, newest last (at most 50 lines).
    const std::deque<FeedLine>& feed() const { return feed_; }
    /// What is wrong with the connection right now, for a banner; empty while all is well.
    const std::string& trouble() const { return trouble_; }
    const sprocket::Sprocket& connection() const { return link_; }
    PlayerId id() const { return me_; }
    /// A spectator (ClientMode::watch).
    bool watching() const { return watch_; }
    /// The newest snapshot received (nothing before the first).
    const Snapshot* latest() const { return snapshots_.empty() ? nullptr : &snapshots_.back(); }
    /// How many snapshots were received, and how many inputs the server has not applied yet.
    std::uint64_t snapshots() const { return received_; }
    std::size_t unacknowledged() const { return pending_.size(); }
    /// Names and colours by id.
    const std::map<PlayerId, RosterEntry>& roster() const { return roster_; }

    /// Snapshots are drawn this far in the past, so there is always a next one to move towards.
    static constexpr double interpolation_ticks = 3;

private:
    void handle(const sprocket::Event& event, TimePoint now);
    void on_state(Snapshot snap, TimePoint now);
    void say(FeedLine::Kind kind, std::string text, TimePoint now);
    std::string name_of(PlayerId id) const;

    std::string name_;
    bool watch_;
    std::string address_;
    sprocket::Sprocket link_;
    PlayerId me_ = 0;
    std::deque<Snapshot> snapshots_;
    std::uint64_t received_ = 0;
    double tick_zero_ = 0;  // estimated local time (s) at which tick 0 would have arrived
    std::map<PlayerId, RosterEntry> roster_;
    std::deque<FeedLine> feed_;
    bool lost_ = false;  // the connection was lost and a reconnect is under way
    std::string trouble_;

    // Prediction of the own ship.
    std::deque<Input> pending_;  // sent, not yet applied by the server
    std::uint32_t next_seq_ = 1;
    bool predicting_ = false;
    Ship predicted_;
    Ship before_;             // the prediction one tick earlier, to move smoothly between ticks
    Vec2 correction_;         // shown offset after a misprediction; fades out
    TimePoint next_input_{};
    TimePoint last_frame_{};
};

}  // namespace arena

#pragma once
// The arena's authority: a Servo, the World, and a fixed tick. Each tick it applies the inputs
// that arrived, simulates, and `sendall`s the state.
#include "world.hpp"

#include <sprocket/servo.hpp>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace arena {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

class Server {
public:
    /// Listens on `host:port` (port 0: any free port), recording the match to `record` unless
    /// it is empty, with a simulated network on every client's connection (`sim`, `host --sim`).
    /// Throws std::runtime_error if it cannot listen, std::system_error if it cannot create the
    /// recording.
    explicit Server(std::uint16_t port, const std::string& host = "127.0.0.1", std::size_t max_players = 32,
                    const std::string& record = "", const sprocket::Simulation& sim = {});

    std::uint16_t port() const { return servo_.port(); }
    /// Handles what arrived and runs every tick due by `now`. Returns when the next tick is due.
    TimePoint update(TimePoint now);
    /// Sleeps until `until` or until a packet arrives, whichever is first (for a headless loop).
    void wait(TimePoint until);

    const World& world() const { return world_; }
    const sprocket::Servo& servo() const { return servo_; }
    /// Lines worth printing ("Ada joined", "Player 3 left: timeout"), oldest first, since the last call.
    std::vector<std::string> take_log();
    /// Connections closed for sending packets that are not the arena's protocol.
    std::size_t kicked() const { return kicked_; }

private:
    void handle(const sprocket::Event& event, TimePoint now);
    void handle_packet(PlayerId id, const sprocket::Packet& packet);
    void notice(const std::string& text);
    std::string name_of(PlayerId id) const;

    sprocket::Servo servo_;
    World world_;
    TimePoint next_tick_{};
    bool roster_changed_ = false;
    std::map<PlayerId, TimePoint> to_announce_;  // joined; announced once named (or after a moment)
    std::set<PlayerId> kicked_ids_;   // already announced; their `left` event is still to come
    std::vector<std::string> log_;
    std::size_t kicked_ = 0;
};

}  // namespace arena

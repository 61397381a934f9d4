#include "server.hpp"

#include "protocol.hpp"

namespace arena {

namespace {

sprocket::ServoOptions servo_options(const std::string& host, std::size_t max_players, const std::string& record,
                                     const sprocket::Simulation& sim) {
    sprocket::ServoOptions options;
    options.simulate = sim;
    options.host = host;
    options.record = record;
    options.application = "sprocket-arena";
    options.max_clients = max_players;
    options.heartbeat_interval = std::chrono::milliseconds(250);  // an RTT sample 4 times a second
    options.timeout = std::chrono::milliseconds(4000);
    return options;
}

constexpr auto tick_length = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(tick_seconds));

}  // namespace

Server::Server(std::uint16_t port, const std::string& host, std::size_t max_players, const std::string& record,
               const sprocket::Simulation& sim)
    : servo_(port, servo_options(host, max_players, record, sim)) {}

TimePoint Server::update(TimePoint now) {
    for (const sprocket::Event& event : servo_.poll()) handle(event, now);
    for (auto it = to_announce_.begin(); it != to_announce_.end();) {
        if (now < it->second) {
            ++it;
            continue;
        }
        notice(name_of(it->first) + " joined");
        it = to_announce_.erase(it);
    }
    if (roster_changed_) {
        servo_.sendall(roster_packet(world_));
        roster_changed_ = false;
    }

    if (next_tick_ == TimePoint{} || now - next_tick_ > 10 * tick_length) next_tick_ = now;  // start, or a long stall
    while (now >= next_tick_) {
        world_.tick();
        servo_.sendall(state_packet(world_));
        next_tick_ += tick_length;
    }
    return next_tick_;
}

void Server::wait(TimePoint until) {
    const auto now = Clock::now();
    if (until <= now) return;
    servo_.wait(std::chrono::ceil<std::chrono::milliseconds>(until - now));
}

void Server::handle(const sprocket::Event& event, TimePoint now) {
    const PlayerId id = event.client;
    switch (event.kind) {
    case sprocket::EventKind::joined:
        world_.join(id, "");
        to_announce_[id] = now + std::chrono::seconds(1);  // a client says its name first thing
        roster_changed_ = true;
        break;
    case sprocket::EventKind::left: {
        if (kicked_ids_.erase(id) != 0) break;
        const std::string name = name_of(id);
        world_.leave(id);
        roster_changed_ = true;
        if (to_announce_.erase(id) == 0) {
            // A client that said goodbye simply left; anything else is worth a reason.
            std::string line = name + " left";
            if (event.reason != sprocket::CloseReason::closed_by_peer) {
                line += std::string(": ") + to_string(event.reason);
                if (!event.detail.empty()) line += " (" + event.detail + ")";
            }
            notice(line);
        }
        break;
    }
    case sprocket::EventKind::packet:
        handle_packet(id, event.packet);
        break;
    default:
        break;
    }
}

void Server::handle_packet(PlayerId id, const sprocket::Packet& packet) {
    if (!world_.find(id)) return;  // kicked a moment ago; its last packets are still arriving
    const std::string& channel = packet.channel();
    if (channel == "input") {
        if (const auto input = read_input(packet)) {
            world_.push_input(id, *input);
            return;
        }
    } else if (channel == "name") {
        if (const auto name = packet.try_get<std::string>("name")) {
            world_.rename(id, *name);
            roster_changed_ = true;
            if (auto it = to_announce_.find(id); it != to_announce_.end()) it->second = TimePoint{};
            return;
        }
    } else if (channel == "chat") {
        if (const auto text = packet.try_get<std::string>("text")) {
            if (const auto line = clean_chat(*text))
                servo_.sendall(sprocket::Packet::on("chat", {{"id", id}, {"name", name_of(id)}, {"text", *line}}));
            return;
        }
    }
    // Not the arena's protocol: the sender is not one of our clients (or is broken).
    const std::string name = name_of(id);
    servo_.kick(id, "not an arena packet");
    kicked_ids_.insert(id);
    to_announce_.erase(id);
    world_.leave(id);
    roster_changed_ = true;
    ++kicked_;
    notice(name + " was kicked: not an arena packet");
}

void Server::notice(const std::string& text) {
    log_.push_back(text);
    servo_.sendall(sprocket::Packet::on("notice", {{"text", text}}));
}

std::string Server::name_of(PlayerId id) const {
    const Player* player = world_.find(id);
    return player ? player->name : "Player " + std::to_string(id);
}

std::vector<std::string> Server::take_log() {
    std::vector<std::string> out;
    out.swap(log_);
    return out;
}

}  // namespace arena

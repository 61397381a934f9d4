#include "replay.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>
#include <tuple>

namespace sprocket::replay {

namespace {

using namespace std::chrono_literals;

bool is_packet(const Record& r) { return r.kind == RecordKind::sent || r.kind == RecordKind::received; }

// How long a loop waits at most, so that a signal or a half-full queue is looked at again soon.
constexpr auto longest_wait = 100ms;
// How long a full send queue is given to drain before sending more (the fast pace).
constexpr auto queue_pause = 1ms;

}  // namespace

Script make_script(const Recording& recording, RecordRole as) {
    Script script;
    script.recorded = recording.header.role;
    script.as = as;
    const RecordKind played = as == script.recorded ? RecordKind::sent : RecordKind::received;
    std::optional<std::chrono::microseconds> origin;
    for (const Record& r : recording.records) {
        if (r.kind == RecordKind::joined && !origin) origin = r.at;
        if (r.kind == played) {
            script.records.push_back(r);
            ++script.packets;
        } else if (!is_packet(r) && script.recorded == RecordRole::server) {
            script.records.push_back(r);
        }
    }
    if (!origin && !script.records.empty()) origin = script.records.front().at;
    script.origin = origin.value_or(std::chrono::microseconds(0));
    return script;
}

Clock::time_point Pace::due(std::chrono::microseconds at) const {
    if (speed_ <= 0) return *start_;
    const auto offset = std::max(at - origin_, std::chrono::microseconds(0));
    return *start_ + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double, std::micro>(static_cast<double>(offset.count()) / speed_));
}

// --- ServerReplay --------------------------------------------------------------------------------

ServerReplay::ServerReplay(Script script, double speed, std::size_t max_send_queue)
    : script_(std::move(script)), pace_(speed, script_.origin), max_send_queue_(max_send_queue) {
    for (const Record& r : script_.records) {
        if (r.kind == RecordKind::joined &&
            std::find(recorded_joins_.begin(), recorded_joins_.end(), r.client) == recorded_joins_.end())
            recorded_joins_.push_back(r.client);
    }
}

void ServerReplay::on_event(const Event& event, Clock::time_point now) {
    if (event.kind == EventKind::joined) {
        if (!pace_.started()) pace_.start(now);
        if (joins_ < recorded_joins_.size()) stand_in_[recorded_joins_[joins_]] = event.client;
        ++joins_;
    } else if (event.kind == EventKind::left) {
        for (auto it = stand_in_.begin(); it != stand_in_.end();) {
            if (it->second == event.client) it = stand_in_.erase(it);
            else ++it;
        }
    }
}

bool ServerReplay::backed_up(const Servo& server) const {
    const auto clients = server.clients();
    return std::any_of(clients.begin(), clients.end(),
                       [&](const ClientInfo& c) { return c.stats.send_queue > max_send_queue_ / 2; });
}

Clock::time_point ServerReplay::play(Servo& server, Clock::time_point now) {
    if (!pace_.started()) return Clock::time_point::max();
    while (!done()) {
        const Record& r = script_.records[next_];
        const Clock::time_point due = pace_.due(r.at);
        if (due > now) return due;
        if (!is_packet(r)) {  // joins and leaves: the stand-ins come and go by themselves
            ++next_;
            continue;
        }
        if (backed_up(server)) return now + queue_pause;
        ++next_;
        if (on_play) on_play(r);
        bool delivered = false;
        try {
            if (r.client == 0 || script_.recorded == RecordRole::client) {  // sendall, or a client's own
                delivered = server.sendall(r.packet) > 0;
            } else if (const auto it = stand_in_.find(r.client); it != stand_in_.end()) {
                delivered = server.send(it->second, r.packet);
            }
        } catch (const std::length_error&) {
            delivered = false;  // bigger than this server's max_frame_size
        }
        ++(delivered ? sent_ : skipped_);
    }
    return Clock::time_point::max();
}

// --- ClientReplay --------------------------------------------------------------------------------

ClientReplay::ClientReplay(Script script, double speed, std::string host, std::uint16_t port, SprocketOptions options)
    : script_(std::move(script)), pace_(speed, script_.origin), host_(std::move(host)), port_(port),
      options_(std::move(options)) {}

void ClientReplay::start(Clock::time_point now) {
    pace_.start(now);
    if (script_.recorded == RecordRole::client) open(0);
}

void ClientReplay::open(ClientId recorded) {
    if (lanes_.count(recorded) == 0)
        lanes_.emplace(std::piecewise_construct, std::forward_as_tuple(recorded), std::forward_as_tuple(host_, port_, options_));
}

Clock::time_point ClientReplay::play(Clock::time_point now) {
    if (!pace_.started()) return Clock::time_point::max();
    while (!done()) {
        const Record& r = script_.records[next_];
        const Clock::time_point due = pace_.due(r.at);
        if (due > now) return due;
        if (r.kind == RecordKind::joined) {
            open(r.client);
        } else if (r.kind == RecordKind::left) {
            lanes_.erase(r.client);  // says goodbye after what is queued
        } else if (const auto lane = lanes_.find(script_.recorded == RecordRole::client ? 0 : r.client);
                   lane == lanes_.end()) {
            ++skipped_;
        } else {
            if (lane->second.stats().send_queue > options_.max_send_queue / 2) return now + queue_pause;
            if (on_play) on_play(r);
            bool delivered = false;
            try {
                delivered = lane->second.send(r.packet);
            } catch (const std::length_error&) {
                delivered = false;  // bigger than max_frame_size
            }
            ++(delivered ? sent_ : skipped_);
        }
        ++next_;
    }
    return Clock::time_point::max();
}

std::vector<std::pair<ClientId, Event>> ClientReplay::poll() {
    std::vector<std::pair<ClientId, Event>> out;
    for (auto& [recorded, lane] : lanes_) {
        for (Event& e : lane.poll()) out.emplace_back(recorded, std::move(e));
    }
    return out;
}

void ClientReplay::wait_until(Clock::time_point until) {
    const Clock::time_point now = Clock::now();
    until = std::min(until, now + longest_wait);
    if (until <= now) return;
    if (lanes_.empty()) std::this_thread::sleep_until(until);  // before the first connection opens
    else lanes_.begin()->second.wait(std::chrono::ceil<std::chrono::milliseconds>(until - now));
}

std::optional<std::string> ClientReplay::failure() const {
    for (const auto& [recorded, lane] : lanes_) {
        const Status status = lane.status();
        if (status.state != State::disconnected) continue;
        std::string why = to_string(status.reason);
        if (!status.detail.empty()) why += " (" + status.detail + ")";
        if (script_.recorded == RecordRole::server) return "the connection of recorded client " + std::to_string(recorded) + ": " + why;
        return why;
    }
    return std::nullopt;
}

std::size_t ClientReplay::queued() const {
    std::size_t bytes = 0;
    for (const auto& [recorded, lane] : lanes_) bytes += lane.stats().send_queue;
    return bytes;
}

void ClientReplay::close() {
    for (auto& [recorded, lane] : lanes_) lane.close();
    lanes_.clear();
}

}  // namespace sprocket::replay

#include "client.hpp"

#include <algorithm>
#include <cmath>

namespace arena {

namespace {

sprocket::SprocketOptions link_options(const ClientMode& mode) {
    sprocket::SprocketOptions options;
    options.record = mode.record;
    options.simulate = mode.sim;
    options.application = "sprocket-arena";
    options.heartbeat_interval = std::chrono::milliseconds(250);  // an RTT sample 4 times a second
    options.timeout = std::chrono::milliseconds(4000);
    options.reconnect = true;
    options.reconnect_delay = std::chrono::milliseconds(500);
    options.reconnect_max_delay = std::chrono::milliseconds(3000);
    return options;
}

double seconds(TimePoint t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

constexpr auto tick_length = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(tick_seconds));
constexpr std::size_t kept_snapshots = 32;
constexpr std::size_t feed_lines = 50;

}  // namespace

const View::ShipView* View::me() const {
    for (const ShipView& s : ships)
        if (s.me) return &s;
    return nullptr;
}

Client::Client(const std::string& host, std::uint16_t port, std::string name, ClientMode mode)
    : name_(std::move(name)), watch_(mode.watch), address_(host + ":" + std::to_string(port)),
      link_(host, port, link_options(mode)) {
    if (!watch_) link_.send(sprocket::Packet::on("name", {{"name", name_}}));  // goes out right after the handshake
}

void Client::update(TimePoint now, std::uint8_t keys) {
    for (const sprocket::Event& event : link_.poll()) handle(event, now);

    // Corrections fade out over ~100 ms instead of snapping the ship.
    if (last_frame_ != TimePoint{}) {
        const float dt = std::chrono::duration<float>(now - last_frame_).count();
        correction_ = correction_ * std::exp(-12.0f * dt);
    }
    last_frame_ = now;

    if (!predicting_) return;  // nothing to steer until the server has shown us our ship
    if (next_input_ == TimePoint{} || now - next_input_ > 5 * tick_length) next_input_ = now;
    while (now >= next_input_) {
        const Input input{keys, next_seq_++};
        link_.send(input_packet(input));
        pending_.push_back(input);
        if (pending_.size() > 120) pending_.pop_front();  // the server is not answering; keep it bounded
        before_ = predicted_;
        predicted_ = step(predicted_, input);
        next_input_ += tick_length;
    }
}

void Client::handle(const sprocket::Event& event, TimePoint now) {
    switch (event.kind) {
    case sprocket::EventKind::connected:
        me_ = watch_ ? 0 : event.client;  // a spectator has no ship: every ship is someone else's
        predicting_ = false;
        pending_.clear();
        snapshots_.clear();
        if (watch_) say(FeedLine::notice, "Watching the replay", now);
        else say(FeedLine::notice, (lost_ ? "Back on " : "Connected to ") + address_ + " as player " + std::to_string(me_), now);
        lost_ = false;
        trouble_.clear();
        break;
    case sprocket::EventKind::reconnecting: {
        // Said once per outage in the feed; the banner (`trouble`) follows each attempt.
        std::string why = to_string(event.reason);
        if (!event.detail.empty()) why += ": " + event.detail;
        if (!lost_) say(FeedLine::trouble, "Lost the server (" + why + "), reconnecting...", now);
        trouble_ = lost_ ? "Server unreachable (" + why + "), retrying..." : "Lost the server (" + why + "), reconnecting...";
        lost_ = true;
        if (!watch_) link_.send(sprocket::Packet::on("name", {{"name", name_}}));  // for the next connection
        break;
    }
    case sprocket::EventKind::disconnected: {
        if (link_.status().state != sprocket::State::disconnected) break;  // a reconnect follows
        std::string why = to_string(event.reason);
        if (!event.detail.empty()) why += ": " + event.detail;
        say(FeedLine::trouble, "Disconnected (" + why + ")", now);
        trouble_ = "Disconnected (" + why + ")";
        break;
    }
    case sprocket::EventKind::packet: {
        const sprocket::Packet& p = event.packet;
        if (p.channel() == "state") {
            if (auto snap = read_state(p)) on_state(std::move(*snap), now);
        } else if (p.channel() == "roster") {
            if (auto roster = read_roster(p)) {
                roster_.clear();
                for (RosterEntry& entry : *roster) roster_[entry.id] = std::move(entry);
            }
        } else if (p.channel() == "chat") {
            const auto text = p.try_get<std::string>("text");
            const auto from = p.try_get<std::string>("name");
            if (text && from) say(FeedLine::chat, *from + ": " + *text, now);
        } else if (p.channel() == "notice") {
            if (const auto text = p.try_get<std::string>("text")) say(FeedLine::notice, *text, now);
        }
        break;
    }
    default:
        break;
    }
}

void Client::on_state(Snapshot snap, TimePoint now) {
    if (!snapshots_.empty() && snap.tick <= snapshots_.back().tick) return;  // a new server restarted the count
    ++received_;
    // The clock of the server's ticks, in local seconds: the earliest any snapshot could have
    // arrived. Early arrivals pull it back at once; late ones (jitter) only drift it forward.
    const double zero = seconds(now) - static_cast<double>(snap.tick) * tick_seconds;
    if (snapshots_.empty() || zero < tick_zero_) tick_zero_ = zero;
    else tick_zero_ += (zero - tick_zero_) * 0.02;

    if (const ShipState* mine = snap.find(me_)) {
        while (!pending_.empty() && pending_.front().seq <= mine->ack) pending_.pop_front();
        Ship replayed = mine->ship;
        for (const Input& input : pending_) replayed = step(replayed, input);
        if (predicting_) {
            correction_ = correction_ + (predicted_.pos - replayed.pos);
            // Keep the between-ticks blend consistent with the corrected path.
            before_.pos = before_.pos - (predicted_.pos - replayed.pos);
        } else {
            before_ = replayed;
        }
        predicted_ = replayed;
        predicting_ = true;
    }
    snapshots_.push_back(std::move(snap));
    if (snapshots_.size() > kept_snapshots) snapshots_.pop_front();
}

View Client::view(TimePoint now) const {
    View view;
    if (snapshots_.empty()) return view;

    // Pick the two snapshots around the render tick and blend them.
    const double render_tick = (seconds(now) - tick_zero_) / tick_seconds - interpolation_ticks;
    const Snapshot* a = &snapshots_.front();
    const Snapshot* b = a;
    for (const Snapshot& s : snapshots_) {
        if (static_cast<double>(s.tick) <= render_tick) a = &s;
        if (static_cast<double>(s.tick) > render_tick) {
            b = &s;
            break;
        }
        b = &s;
    }
    float t = 0;
    if (b->tick > a->tick)
        t = static_cast<float>(std::clamp((render_tick - static_cast<double>(a->tick)) / static_cast<double>(b->tick - a->tick), 0.0, 1.0));

    const Snapshot& newest = snapshots_.back();
    view.coins = newest.coins;
    for (const ShipState& sb : b->ships) {
        if (sb.id == me_) continue;
        View::ShipView ship;
        ship.id = sb.id;
        ship.name = name_of(sb.id);
        ship.colour = roster_.count(sb.id) ? roster_.at(sb.id).colour : 0xffffffff;
        ship.score = sb.score;
        const ShipState* sa = a->find(sb.id);
        ship.pos = sa ? lerp(sa->ship.pos, sb.ship.pos, t) : sb.ship.pos;
        float angle = sb.ship.angle;
        if (sa) {
            float turn = std::remainder(sb.ship.angle - sa->ship.angle, 360.0f);
            angle = sa->ship.angle + turn * t;
        }
        ship.angle = angle;
        view.ships.push_back(ship);
    }
    if (const ShipState* mine = newest.find(me_); mine && predicting_) {
        View::ShipView ship;
        ship.id = me_;
        ship.me = true;
        ship.name = name_of(me_);
        ship.colour = roster_.count(me_) ? roster_.at(me_).colour : 0xffffffff;
        ship.score = mine->score;
        // Between two input ticks, move from the previous prediction to the current one.
        const float since = std::chrono::duration<float>(now - (next_input_ - tick_length)).count();
        const float blend = std::clamp(since / tick_seconds, 0.0f, 1.0f);
        ship.pos = lerp(before_.pos, predicted_.pos, blend) + correction_;
        ship.angle = predicted_.angle;
        view.ships.push_back(ship);
    }
    return view;
}

void Client::chat(const std::string& text) {
    if (watch_) return;
    if (const auto line = clean_chat(text)) link_.send(sprocket::Packet::on("chat", {{"text", *line}}));
}

void Client::say(FeedLine::Kind kind, std::string text, TimePoint now) {
    feed_.push_back(FeedLine{kind, std::move(text), now});
    if (feed_.size() > feed_lines) feed_.pop_front();
}

std::string Client::name_of(PlayerId id) const {
    auto it = roster_.find(id);
    return it == roster_.end() ? "Player " + std::to_string(id) : it->second.name;
}

}  // namespace arena

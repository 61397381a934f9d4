#pragma once
// The hostile-peer suite's backdrop: a Servo and well-behaved Sprockets exchanging numbered
// packets, pumped by the test while an attacker does its worst. At the end, `finish()` checks
// that nothing of theirs was lost, reordered or damaged, that the server still answers a new
// client, and that its memory stayed bounded.
#include "../net/raw_peer.hpp"

#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <unistd.h>

namespace hostile {

using namespace nettest;
using sprocket::CloseReason;
using sprocket::Packet;

/// Resident memory of this process, in KiB (reported, not asserted: the allocator keeps pages).
inline long rss_kib() {
    long pages = 0, resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

class Game {
public:
    explicit Game(sprocket::ServoOptions server_options = quick_server(), int players = 3,
                  sprocket::SprocketOptions client_options = quick_client())
        : server(0, server_options), options_(server_options) {
        for (int i = 0; i < players; ++i)
            players_.push_back(std::make_unique<Player>("127.0.0.1", server.port(), client_options));
        // Everyone joins before anything is sent, so every packet is counted from the first.
        const auto deadline = Clock::now() + patience;
        while (joined_ < players && Clock::now() < deadline) {
            pump();
            server.wait(5ms);
        }
        REQUIRE(joined_ == players);
        const auto ids = server.clients();
        for (const auto& info : ids) ours_.push_back(info.id);
        rss_before_ = rss_kib();
    }

    /// One turn: every player sends its next packet, the server sends its next to everyone,
    /// and whatever arrived is checked and counted.
    void turn() {
        ++turns_;
        for (auto& p : players_) {
            if (p->link.send({{"seq", p->sent}, {"pad", std::string(100, 'p')}})) ++p->sent;
        }
        if (server.sendall(Packet{{"seq", sent_by_server_}, {"pad", std::string(100, 's')}}) > 0) ++sent_by_server_;
        pump();
    }

    /// Plays turns until `done()` holds or the deadline passes; true if it held.
    bool until(const std::function<bool()>& done, std::chrono::milliseconds limit = patience) {
        const auto deadline = Clock::now() + limit;
        while (!done()) {
            if (Clock::now() > deadline) return false;
            turn();
            server.wait(5ms);  // a turn every few ms, sooner when packets arrive
        }
        return true;
    }

    /// Connects `attacker` and lets it complete a proper handshake (it joins as a client).
    void let_in(RawPeer& attacker) {
        REQUIRE(attacker.connect(server.port()));
        REQUIRE(attacker.join() != 0);
    }

    /// A refusal (a connection closed before joining) with this reason, seen so far.
    bool refused(CloseReason reason, std::string_view detail = "") const {
        return std::any_of(refusals.begin(), refusals.end(), [&](const sprocket::Refusal& r) {
            return r.reason == reason && r.detail.find(detail) != std::string::npos;
        });
    }
    /// A client that is not one of ours left with this reason.
    bool stranger_left(CloseReason reason, std::string_view detail = "") const {
        return std::any_of(left.begin(), left.end(), [&](const sprocket::Event& e) {
            return !ours(e.client) && e.reason == reason && e.detail.find(detail) != std::string::npos;
        });
    }

    /// After the attack: every packet sent both ways arrives, in order and intact; a new client
    /// can still join and be heard; the memory held for connections stayed within its bound.
    void finish() {
        // A game that went on for a while: at least 100 turns in all, attack included.
        CHECK(until([&] { return turns_ >= 100; }));
        const auto all_in = [&] {
            return std::all_of(players_.begin(), players_.end(), [&](const auto& p) {
                return p->received == sent_by_server_ && received_from_[index_of(p->id)] == p->sent;
            });
        };
        // Stop sending; let everything in flight land.
        const auto deadline = Clock::now() + patience;
        while (!all_in() && Clock::now() < deadline) {
            pump();
            server.wait(5ms);
        }
        for (const auto& p : players_) {
            CHECK(p->link.connected());
            CHECK(p->received == sent_by_server_);
            CHECK(received_from_[index_of(p->id)] == p->sent);
            CHECK(p->sent > 0);
        }
        CHECK(damaged_ == 0);
        CHECK(sent_by_server_ > 0);

        sprocket::Sprocket late("127.0.0.1", server.port(), client_options_for_late());
        REQUIRE(late.wait_connected(patience));
        REQUIRE(late.send({{"hello", "still there?"}}));
        CHECK(until([&] { return heard_late_; }));

        CHECK(peak_buffered_ <= bound());
        MESSAGE("peak buffered " << peak_buffered_ << " B (bound " << bound() << " B); RSS " << rss_before_
                                 << " KiB before the attack, " << rss_kib() << " KiB after");
    }

    /// What the options allow the server to hold for the connections it may have at once.
    std::size_t bound() const {
        const std::size_t per = options_.max_send_queue + options_.max_frame_size + options_.max_receive_queue;
        return (options_.max_clients + options_.max_pending) * per;
    }
    std::size_t peak_buffered() const { return peak_buffered_; }
    bool ours(sprocket::ClientId id) const { return std::find(ours_.begin(), ours_.end(), id) != ours_.end(); }

    sprocket::Servo server;
    std::vector<sprocket::Refusal> refusals;
    std::vector<sprocket::Event> left;

private:
    struct Player {
        Player(const std::string& host, std::uint16_t port, const sprocket::SprocketOptions& o) : link(host, port, o) {}
        sprocket::Sprocket link;
        sprocket::ClientId id = 0;
        std::int64_t sent = 0;
        std::int64_t received = 0;
    };

    sprocket::SprocketOptions client_options_for_late() const {
        auto o = quick_client();
        o.application = options_.application;
        o.password = options_.password;
        return o;
    }

    std::size_t index_of(sprocket::ClientId id) const {
        return static_cast<std::size_t>(std::find(ours_.begin(), ours_.end(), id) - ours_.begin());
    }

    void pump() {
        for (auto& p : players_) {
            if (p->id == 0) p->id = p->link.id();
            for (const Packet& packet : p->link.get()) {
                if (packet.channel() == "bulk") {  // extra load some attacks add; intact, not counted
                    if (!packet.has("blob")) ++damaged_;
                    continue;
                }
                const auto seq = packet.try_get<std::int64_t>("seq");
                const auto pad = packet.try_get<std::string>("pad");
                if (!seq || *seq != p->received || !pad || *pad != std::string(100, 's')) ++damaged_;
                ++p->received;
            }
        }
        for (sprocket::Event& e : server.poll()) {
            if (e.kind == sprocket::EventKind::joined) ++joined_;
            if (e.kind == sprocket::EventKind::left) left.push_back(e);
            if (e.kind != sprocket::EventKind::packet) continue;
            if (e.packet.has("hello")) {
                heard_late_ = true;
                continue;
            }
            if (!ours(e.client)) continue;  // an attacker that got in: not ours to count
            auto& count = received_from_[index_of(e.client)];
            const auto seq = e.packet.try_get<std::int64_t>("seq");
            const auto pad = e.packet.try_get<std::string>("pad");
            if (!seq || *seq != count || !pad || *pad != std::string(100, 'p')) ++damaged_;
            ++count;
        }
        for (auto& r : server.refused()) refusals.push_back(std::move(r));
        peak_buffered_ = std::max(peak_buffered_, server.stats().buffered);
    }

    sprocket::ServoOptions options_;
    std::vector<std::unique_ptr<Player>> players_;
    std::vector<sprocket::ClientId> ours_;
    std::map<std::size_t, std::int64_t> received_from_;
    std::int64_t sent_by_server_ = 0;
    int joined_ = 0;
    std::size_t damaged_ = 0;
    bool heard_late_ = false;
    std::size_t peak_buffered_ = 0;
    long rss_before_ = 0;
    int turns_ = 0;
};

}  // namespace hostile

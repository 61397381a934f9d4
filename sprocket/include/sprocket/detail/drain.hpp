#pragma once
/// \file
/// How an endpoint hands its inbox to the game: take the events asked for, in order, and run
/// the callbacks of the connection events among them. Shared by Sprocket and Servo.

#include <sprocket/event.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sprocket::detail {

inline bool is_packet(const Event& e) { return e.kind == EventKind::packet; }
inline bool any_event(const Event&) { return true; }

/// Selects the packets of `channel`, and the connection events queued before any packet of
/// another channel (a later event waits: it must not overtake the packets left queued). A
/// `stalled` event is always taken: it is about the packets left queued.
inline auto channel_only(std::string_view channel) {
    return [channel, blocked = false](const Event& e) mutable {
        if (e.kind == EventKind::stalled) return true;
        if (!is_packet(e)) return !blocked;
        if (e.packet.channel() == channel) return true;
        blocked = true;
        return false;
    };
}

/// The channels the game reads with `latest()`. From a channel's first `latest()` on, `get()`,
/// `get(timeout)` and `poll()` leave its packets for `latest()`, so "get() for the events,
/// latest("state") for the state" works in either order. Any thread.
class LatestChannels {
public:
    using Names = std::shared_ptr<const std::vector<std::string>>;
    /// Marks `channel` (at most 64 names; later ones are not marked). Copies the list only when
    /// a name is new: every `latest()` calls this.
    void add(std::string_view channel) {
        std::lock_guard<std::mutex> lock(mutex_);
        const std::vector<std::string>& now = names_ ? *names_ : none();
        if (now.size() >= 64 || std::find(now.begin(), now.end(), channel) != now.end()) return;
        auto next = std::make_shared<std::vector<std::string>>(now);
        next->emplace_back(channel);
        names_ = std::move(next);
        any_.store(true);
    }
    /// The marked channels now: null, without a lock, until the first `add`; then a shared
    /// snapshot (no copy per call).
    Names names() const {
        if (!any_.load()) return nullptr;
        std::lock_guard<std::mutex> lock(mutex_);
        return names_;
    }

private:
    static const std::vector<std::string>& none() {
        static const std::vector<std::string> empty;
        return empty;
    }
    mutable std::mutex mutex_;
    Names names_;  // guarded by mutex_
    std::atomic<bool> any_{false};
};

/// Selects what `get()` and `poll()` take when some channels are read with `latest()`
/// (`latest`: LatestChannels::names()): everything but those channels' packets, which wait for
/// `latest()`. Except when a connection event of the same peer follows such a packet (its
/// `left`, a `disconnected`): then the packet goes first, in order, so the game sees a player's
/// last input before it left, and never after. `per_client`: a Servo, whose events each concern
/// one client; a Sprocket has one peer.
class AllBut {
public:
    AllBut(const std::vector<std::string>& latest, bool per_client) : latest_(latest), per_client_(per_client) {}

    /// Under the inbox's lock, before the calls below: which packets a later event flushes.
    void prepare(const std::vector<Event>& events) {
        flush_.assign(events.size(), 0);
        std::vector<ClientId> ended;  // peers with a connection event further on
        bool any_ended = false;
        for (std::size_t i = events.size(); i-- > 0;) {
            const Event& e = events[i];
            if (!is_packet(e)) {
                if (e.kind == EventKind::stalled) continue;
                any_ended = true;
                if (per_client_ && std::find(ended.begin(), ended.end(), e.client) == ended.end()) ended.push_back(e.client);
                continue;
            }
            flush_[i] = per_client_ ? std::find(ended.begin(), ended.end(), e.client) != ended.end() : any_ended;
        }
        at_ = 0;
    }

    bool operator()(const Event& e) {
        const std::size_t i = at_++;
        if (!is_packet(e)) return true;
        const bool waits = std::find(latest_.begin(), latest_.end(), e.packet.channel()) != latest_.end();
        return !waits || (i < flush_.size() && flush_[i]);
    }

private:
    const std::vector<std::string>& latest_;
    bool per_client_;
    std::vector<char> flush_;
    std::size_t at_ = 0;
};

inline AllBut all_but(const std::vector<std::string>& latest, bool per_client) { return AllBut(latest, per_client); }

/// Selects what `latest(channel)` takes: the packets of `channel` (the newest counts, the others
/// are dropped), and `stalled` events (about the packets left queued). Other events stay for
/// `get()`/`poll()`, in order.
inline auto latest_of(std::string_view channel) {
    return [channel](const Event& e) {
        return e.kind == EventKind::stalled || (is_packet(e) && e.packet.channel() == channel);
    };
}

/// Whether `get(timeout)` may return: a packet `get()` would take is queued (`select`: all_but).
template <class Select>
auto packet_among(Select select) {
    return [select](const Event& e) mutable { return select(e) && is_packet(e); };
}

/// What `get()` and `poll()` take: `take(select)` with everything while no channel is read with
/// `latest()`, else with `all_but` those channels.
template <class Take>
auto unread(const LatestChannels& latest, bool per_client, Take&& take) {
    const LatestChannels::Names names = latest.names();
    if (!names) return take(any_event);
    return take(all_but(*names, per_client));
}

/// Takes the events `select` picks (see `Inbox::take`) and runs their callbacks; writes the
/// endpoint's recording to its file when a write is due. `core` (with
/// `inbox` and `callbacks`) is taken by value on purpose: a callback may destroy the endpoint.
template <class Core, class Select>
std::vector<Event> drain(const std::shared_ptr<Core> core, Select&& select) {
    std::vector<Event> events = core->inbox.take(std::forward<Select>(select));
    if (core->recorder) core->recorder->flush_if_due();  // the game's loop keeps the file fresh
    for (const Event& e : events) {
        if (!is_packet(e)) core->callbacks.dispatch(e);
    }
    return events;
}

/// `drain` for `get()`: appends `make(event)` to `out` for each packet event among those
/// `select` picks, in order, then gives the events' vector back to the inbox
/// (`Inbox::recycle`) for later reads. `core` is held here: a callback run by drain may
/// destroy the endpoint.
template <class Core, class Select, class T, class Make>
void drain_packets(const std::shared_ptr<Core> core, Select&& select, std::vector<T>& out, Make&& make) {
    std::vector<Event> events = drain(core, std::forward<Select>(select));
    out.reserve(out.size() + events.size());
    for (Event& e : events) {
        if (is_packet(e)) out.push_back(make(e));
    }
    core->inbox.recycle(std::move(events));
}

}  // namespace sprocket::detail

#pragma once
/// \file
/// How an endpoint hands its inbox to the game: take the events asked for, in order, and run
/// the callbacks of the connection events among them. Shared by Sprocket and Servo.

#include <sprocket/event.hpp>

#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace sprocket::detail {

inline bool is_packet(const Event& e) { return e.kind == EventKind::packet; }
inline bool any_event(const Event&) { return true; }

/// Selects the packets of `channel`, and the connection events queued before any packet of
/// another channel (a later event waits: it must not overtake the packets left queued).
inline auto channel_only(std::string_view channel) {
    return [channel, blocked = false](const Event& e) mutable {
        if (!is_packet(e)) return !blocked;
        if (e.packet.channel() == channel) return true;
        blocked = true;
        return false;
    };
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

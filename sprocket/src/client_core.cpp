#include "client_core.hpp"

#include <sprocket/detail/control.hpp>

#include <algorithm>

namespace sprocket::detail {

ClientCore::ClientCore(Reactor& reactor, const std::string& host, std::uint16_t port,
                       const SprocketOptions& options)
    : Connection(options),
      inbox(reactor),
      recorder(open_recorder(options, RecordRole::client)),
      options_(options), host_(host), address_(host), port_(port) {}

void ClientCore::start(TimePoint now) {
    started_ = true;
    if (address_ == sf::IpAddress::None) {
        const std::string why = "cannot resolve host '" + host_ + "'";
        shut_down_ = true;
        outbox().reset(false);  // first: once the game sees the status, sends must fail
        set_status(State::disconnected, CloseReason::connect_failed, why);
        report(Event{EventKind::disconnected, 0, {}, CloseReason::connect_failed, why});
        return;
    }
    start_connect(address_, port_, now);
}

void ClientCore::shutdown(TimePoint now) {
    shut_down_ = true;
    const bool planned = reconnect_at_ != no_deadline || status().state == State::connecting;
    reconnect_at_ = no_deadline;
    if (phase() == Phase::idle || phase() == Phase::closing) {
        // Closed already (maybe still lingering): only the reconnect it planned is called off.
        cancel_reconnect();
        if (phase() == Phase::idle) outbox().reset(false);
        if (planned) report_closed();
        return;
    }
    if (phase() == Phase::connecting || phase() == Phase::handshake) {
        // Packets sent before the connection was up must still go out ("send, then exit"):
        // the handshake may finish within `linger`; then they leave, followed by a goodbye.
        // The game sees the close now; nothing about this connection is reported after it.
        report_closed();
        silent_ = true;
        outbox().stop_accepting();
        shorten_deadline(now + options_.linger);
        return;
    }
    close(CloseReason::closed, "", Farewell::goodbye, now);
}

void ClientCore::report_closed() {
    if (status().state == State::disconnected) return;
    set_status(State::disconnected, CloseReason::closed, "closed by this side");
    report(Event{EventKind::disconnected, id(), {}, CloseReason::closed, "closed by this side"});
}

TimePoint ClientCore::service(TimePoint now) {
    if (phase() == Phase::idle && reconnect_at_ != no_deadline) {
        if (now < reconnect_at_) return reconnect_at_;
        reconnect_at_ = no_deadline;
        start_connect(address_, port_, now);
    }
    const TimePoint next = Connection::service(now);
    // A close inside Connection::service (a deadline, the end of linger) may have planned a
    // reconnect: wake up for it.
    if (phase() == Phase::idle && reconnect_at_ != no_deadline) return std::min(next, reconnect_at_);
    return next;
}

bool ClientCore::finished() const {
    return started_ && phase() == Phase::idle && reconnect_at_ == no_deadline;
}

Status ClientCore::status() const {
    Status status;
    {
        std::lock_guard<std::mutex> lock(status_mutex_);
        status = status_;
    }
    status.stalled = stall_text();
    return status;
}

void ClientCore::set_status(State state, CloseReason reason, std::string detail) {
    {
        std::lock_guard<std::mutex> lock(status_mutex_);
        status_ = Status{state, reason, std::move(detail), {}};
    }
    inbox.notify();
}

void ClientCore::on_tcp_connected(TimePoint) {
    // The hello goes ahead of any packet sent while connecting; those follow at once.
    send_control([&](Bytes& out) { append_hello(out, Hello{protocol_version, options_.application, options_.password,
                                                       static_cast<std::uint32_t>(options_.max_frame_size)}); },
                 true);
}

void ClientCore::on_handshake(const FrameView& frame, TimePoint now) {
    if (frame.kind == static_cast<std::uint8_t>(FrameKind::welcome)) {
        const auto welcome = parse_welcome(frame);
        if (!welcome) {
            close(CloseReason::protocol_error, "malformed welcome", Farewell::goodbye, now);
            return;
        }
        id_.store(welcome->client);
        failures_ = 0;
        outbox().set_max_frame(welcome->max_frame != 0 ? welcome->max_frame : unsaid_max_frame);
        open(now);
        if (shut_down_) {  // closed while connecting: deliver what was queued, then goodbye
            close(CloseReason::closed, "", Farewell::goodbye, now);
            return;
        }
        set_status(State::connected, CloseReason::none, "");
        report(Event{EventKind::connected, welcome->client, {}, CloseReason::none, ""});
        return;
    }
    if (frame.kind == static_cast<std::uint8_t>(FrameKind::reject)) {
        const auto reject = parse_reject(frame);
        close(CloseReason::rejected, reject ? reject->text : std::string("malformed reject"), Farewell::drop, now);
        return;
    }
    close(CloseReason::protocol_error, "unexpected frame during the handshake", Farewell::goodbye, now);
}

void ClientCore::on_packet(Packet packet, Encoded body, std::size_t bytes) {
    report(Event{EventKind::packet, id(), std::move(packet), CloseReason::none, ""}, std::move(body), bytes);
}

void ClientCore::report(Event event, Encoded body, std::size_t bytes) {
    if (recorder) {
        const bool connected = event.kind == EventKind::connected;
        record_event(recorder.get(), event, body, connected ? host_ + ":" + std::to_string(port_) : std::string());
    }
    // Packets are announced once per read (on_frames_done); other events wake waiters at once.
    if (event.kind == EventKind::packet) inbox.push_packet(std::move(event), std::move(body), bytes, budget());
    else inbox.push(std::move(event));
}

void ClientCore::on_frames_done() { inbox.announce(); }

bool ClientCore::reconnects_after(CloseReason reason) const {
    if (!options_.reconnect || shut_down_) return false;
    if (reason == CloseReason::closed || reason == CloseReason::kicked || reason == CloseReason::rejected) return false;
    return options_.reconnect_attempts == 0 || failures_ < options_.reconnect_attempts;
}

void ClientCore::on_closed(CloseReason reason, const std::string& detail, TimePoint now) {
    if (silent_) return;  // the game was told already (closed while connecting)
    const ClientId me = id();
    const bool again = reconnects_after(reason);
    set_status(again ? State::connecting : State::disconnected, reason, detail);
    if (!again) {  // `disconnected` means for good: no reconnect follows
        report(Event{EventKind::disconnected, me, {}, reason, detail});
        return;
    }
    // A blip or a failed attempt: one `reconnecting` event, with why the connection was lost.
    // Exponential backoff: delay, 2 x delay, 4 x delay, ... up to the maximum.
    Millis delay = options_.reconnect_delay;
    for (int i = 0; i < failures_ && delay < options_.reconnect_max_delay; ++i) delay *= 2;
    delay = std::min(delay, options_.reconnect_max_delay);
    ++failures_;
    reconnect_at_ = now + delay;
    report(Event{EventKind::reconnecting, me, {}, reason, detail, failures_, delay});
}
}  // namespace sprocket::detail

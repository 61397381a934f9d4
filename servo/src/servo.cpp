#include <sprocket/servo.hpp>

#include <sprocket/detail/drain.hpp>

#include "servo_core.hpp"

#include <map>
#include <stdexcept>

namespace sprocket {
namespace {

using detail::ServoCore;

using detail::any_event;
using detail::channel_only;
using detail::drain;
using detail::is_packet;

// The packets among the events `select` takes, as messages.
template <class Select>
std::vector<Message> messages_of(const std::shared_ptr<ServoCore>& core, Select&& select) {
    std::vector<Message> messages;
    detail::drain_packets(core, std::forward<Select>(select), messages,
                          [](Event& e) { return Message{e.client, std::move(e.packet)}; });
    return messages;
}

// Connection::prepare, plus the server's own settings.
ServoOptions& prepared(ServoOptions& options) {
    detail::Connection::prepare(options);
    if (options.max_pending == 0) throw std::invalid_argument("sprocket: max_pending must be at least 1");
    return options;
}

}  // namespace

Servo::Servo(std::uint16_t port, ServoOptions options)
    : reactor_((prepared(options), detail::Reactor::acquire())), core_(std::make_shared<ServoCore>(*reactor_, options)) {
    core_->listen(core_->options.host, port);
}

Servo::~Servo() {
    // Waits until the listeners are closed and every client has its goodbye queued.
    if (!core_) return;
    reactor_->run_and_wait([core = core_] { core->shutdown(detail::SteadyClock::now()); });
    if (core_->recorder) core_->recorder->flush();  // the leaves are recorded: the file is complete
}

Servo::Servo(Servo&&) noexcept = default;

Servo& Servo::operator=(Servo&& other) noexcept {
    if (this != &other) {
        Servo gone(std::move(*this));
        reactor_ = std::move(other.reactor_);
        core_ = std::move(other.core_);
    }
    return *this;
}

ServoCore& Servo::core() const {
    if (!core_) throw std::logic_error("sprocket: use of a moved-from Servo");
    return *core_;
}

std::uint16_t Servo::port() const { return core().first_port(); }

std::uint16_t Servo::add_addr(const std::string& host, std::uint16_t port) { return core().listen(host, port); }

std::vector<Message> Servo::get() {
    return detail::unread(core().latest, true, [&](auto select) { return messages_of(core_, select); });
}

std::vector<Message> Servo::get(std::string_view channel) {
    core();
    return messages_of(core_, channel_only(channel));
}

std::vector<Message> Servo::get(Millis timeout) {
    detail::unread(core().latest, true, [&](auto select) {
        return core_->inbox.wait(timeout, detail::packet_among(select), [] { return false; });
    });
    return get();
}

std::vector<Message> Servo::latest(std::string_view channel) {
    core().latest.add(channel);
    std::map<ClientId, Message> newest;
    for (Message& m : messages_of(core_, detail::latest_of(channel))) newest[m.client] = std::move(m);
    std::vector<Message> out;
    out.reserve(newest.size());
    for (auto& entry : newest) out.push_back(std::move(entry.second));
    return out;
}

std::vector<Event> Servo::poll() {
    return detail::unread(core().latest, true, [&](auto select) { return drain(core_, select); });
}

bool Servo::wait(Millis timeout) {
    return core().inbox.wait(timeout, any_event, [] { return false; });
}

void Servo::on(EventKind kind, std::function<void(const Event&)> callback) {
    core().callbacks.set(kind, std::move(callback), {EventKind::joined, EventKind::left, EventKind::stalled}, "Servo");
}

bool Servo::send(ClientId client, const Packet& packet) { return push(client, packet, nullptr); }

bool Servo::send(ClientId client, Packet&& packet) { return push(client, packet, &packet); }

bool Servo::push(ClientId client, const Packet& packet, Packet* movable) {
    ServoCore& core = this->core();
    const auto link = core.find(client);
    if (!link) return false;
    return link->send_with(*reactor_, packet.channel(), [&](detail::Outbox& outbox, std::size_t* frame, std::size_t* written) {
        return detail::push_recorded(core.recorder.get(), packet, client,
                                     [&] { return outbox.push(packet, movable, frame, written); });
    }, false);
}

bool Servo::send(ClientId client, std::initializer_list<Map::Field> fields) {
    ServoCore& core = this->core();
    if (core.recorder) return send(client, Packet(fields));  // the recording keeps the packet itself
    const auto link = core.find(client);
    if (!link) return false;
    return link->send_with(*reactor_, "", [&](detail::Outbox& outbox, std::size_t* frame, std::size_t* written) {
        return outbox.push_literal(fields, frame, written);
    }, false);
}

std::size_t Servo::sendall(const Packet& packet) { return share(0, packet, nullptr); }

std::size_t Servo::sendall(Packet&& packet) { return share(0, packet, &packet); }

std::size_t Servo::sendall_except(ClientId except, const Packet& packet) { return share(except, packet, nullptr); }

std::size_t Servo::share(ClientId except, const Packet& packet, Packet* movable) {
    ServoCore& core = this->core();
    if (core.recorder) movable = nullptr;  // the recording encodes the packet after the push
    // Encoded once here; every client's queue gets a copy of a small packet's bytes, and reads
    // a big one from here (no copy per client).
    auto shared = std::make_shared<detail::SharedFrame>();
    if (movable) {
        append_packet_frame(shared->frame, packet, shared->borrowed, detail::Outbox::borrow_min);
        if (!shared->borrowed.empty()) shared->values = std::move(static_cast<Map&>(*movable));
    } else {
        append_packet_frame(shared->frame, packet);
    }
    const std::shared_ptr<const detail::SharedFrame> frame = std::move(shared);
    const std::size_t size = frame->size();
    const auto links = core.links();
    // One packet over max_send_queue at a time per client: refused for all before any is queued
    // (only a packet that big asks: a state sent 60 times a second takes no extra lock).
    if (size > core.options.max_send_queue) {
        for (const auto& [id, link] : links) {
            if (id != except) link->outbox().check_one_oversized(size);  // throws
        }
    }
    std::size_t queued = 0;
    std::vector<ClientId> to;  // when recording: whom it was queued for
    bool wake = false;
    const auto push = [&] {
        for (const auto& [id, link] : links) {
            if (id == except) continue;
            // Not queued for a client that overflowed or accepts less than this (too_big).
            const auto result = link->outbox().push_shared(frame, packet.channel());
            if (result == detail::Outbox::Push::queued) {
                link->count_sent(packet.channel(), size);
                ++queued;
                if (core.recorder) to.push_back(id);
            }
            wake |= result == detail::Outbox::Push::queued || result == detail::Outbox::Push::overflow;
        }
        // Recorded once for `sendall` (client 0: every client), once per client otherwise.
        if (core.recorder && except == 0 && queued > 0) to.assign(1, 0);
        return to;
    };
    if (core.recorder) core.recorder->record_sent(packet, push);
    else push();
    if (wake) reactor_->wake();
    return queued;
}

RecordingStatus Servo::recording() const { return detail::recording_status(core().recorder.get()); }

std::vector<ClientInfo> Servo::clients() const { return core().clients(); }

ServoStats Servo::stats() const { return core().stats(); }

std::vector<Refusal> Servo::refused() { return core().take_refusals(); }

bool Servo::kick(ClientId client, std::string reason) {
    ServoCore& core = this->core();
    if (!core.find(client)) return false;
    reactor_->post([core = core_, client, reason = std::move(reason)] {
        core->kick(client, reason, detail::SteadyClock::now());
    });
    return true;
}

}  // namespace sprocket

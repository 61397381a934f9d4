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

}  // namespace

Servo::Servo(std::uint16_t port, ServoOptions options)
    : reactor_((detail::Connection::prepare(options), detail::Reactor::acquire())), core_(std::make_shared<ServoCore>(*reactor_, options)) {
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
    const std::vector<std::string> latest = core().latest.names();
    if (latest.empty()) return messages_of(core_, any_event);
    return messages_of(core_, detail::all_but(latest));
}

std::vector<Message> Servo::get(std::string_view channel) {
    core();
    return messages_of(core_, channel_only(channel));
}

std::vector<Message> Servo::get(Millis timeout) {
    const std::vector<std::string> latest = core().latest.names();
    core_->inbox.wait(timeout, detail::unread_packet(latest), [] { return false; });
    return get();
}

std::vector<Message> Servo::latest(std::string_view channel) {
    core().latest.add(channel);
    std::map<ClientId, Message> newest;
    for (Message& m : get(channel)) newest[m.client] = std::move(m);
    std::vector<Message> out;
    out.reserve(newest.size());
    for (auto& entry : newest) out.push_back(std::move(entry.second));
    return out;
}

std::vector<Event> Servo::poll() {
    const std::vector<std::string> latest = core().latest.names();
    if (latest.empty()) return drain(core_, any_event);
    return drain(core_, detail::all_but(latest));
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
    });
}

bool Servo::send(ClientId client, std::initializer_list<Map::Field> fields) {
    ServoCore& core = this->core();
    if (core.recorder) return send(client, Packet(fields));  // the recording keeps the packet itself
    const auto link = core.find(client);
    if (!link) return false;
    return link->send_with(*reactor_, "", [&](detail::Outbox& outbox, std::size_t* frame, std::size_t* written) {
        return outbox.push_literal(fields, frame, written);
    });
}

std::size_t Servo::sendall(const Packet& packet) { return sendall_except(0, packet); }

std::size_t Servo::sendall_except(ClientId except, const Packet& packet) {
    ServoCore& core = this->core();
    // Encoded once here; every client's queue gets a copy of the same bytes.
    Bytes frame;
    append_packet_frame(frame, packet);
    detail::Outbox::check_fits(frame.size(), core.options.max_frame_size, core.options.max_send_queue);
    std::size_t queued = 0;
    std::vector<ClientId> to;  // when recording: whom it was queued for
    bool wake = false;
    const auto push = [&] {
        for (const auto& [id, link] : core.links()) {
            if (id == except) continue;
            const auto result = link->outbox().push_frames(frame, packet.channel());
            if (result == detail::Outbox::Push::queued) {
                link->count_sent(packet.channel(), frame.size());
                ++queued;
                if (core.recorder) to.push_back(id);
            }
            wake |= result != detail::Outbox::Push::closed;
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

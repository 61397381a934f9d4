#include <sprocket/sprocket.hpp>

#include <sprocket/detail/drain.hpp>

#include "client_core.hpp"

#include <stdexcept>

namespace sprocket {
namespace {

using detail::ClientCore;

using detail::any_event;
using detail::channel_only;
using detail::drain;
using detail::is_packet;

// The packets among the events `select` takes.
template <class Select>
std::vector<Packet> packets_of(const std::shared_ptr<ClientCore>& core, Select&& select) {
    std::vector<Packet> packets;
    detail::drain_packets(core, std::forward<Select>(select), packets, [](Event& e) { return std::move(e.packet); });
    return packets;
}

}  // namespace

Sprocket::Sprocket(const std::string& host, std::uint16_t port, SprocketOptions options)
    : reactor_((detail::Connection::prepare(options), detail::Reactor::acquire())),
      core_(std::make_shared<ClientCore>(*reactor_, host, port, options)) {
    reactor_->post([reactor = reactor_.get(), core = core_] {
        reactor->add(core);
        core->start(detail::SteadyClock::now());
    });
}

Sprocket::~Sprocket() {
    if (!core_) return;
    if (!core_->recorder) {
        reactor_->post([core = core_] { core->shutdown(detail::SteadyClock::now()); });
        return;
    }
    // Recording: wait the moment it takes the I/O thread to record the close, so the file is
    // complete when the destructor returns.
    reactor_->run_and_wait([core = core_] { core->shutdown(detail::SteadyClock::now()); });
    core_->recorder->flush();
}

Sprocket::Sprocket(Sprocket&&) noexcept = default;

Sprocket& Sprocket::operator=(Sprocket&& other) noexcept {
    if (this != &other) {
        Sprocket gone(std::move(*this));
        reactor_ = std::move(other.reactor_);
        core_ = std::move(other.core_);
    }
    return *this;
}

detail::ClientCore& Sprocket::core() const {
    if (!core_) throw std::logic_error("sprocket: use of a moved-from Sprocket");
    return *core_;
}

bool Sprocket::send(const Packet& packet) { return push(packet, nullptr); }

bool Sprocket::send(Packet&& packet) { return push(packet, &packet); }

bool Sprocket::push(const Packet& packet, Packet* movable) {
    ClientCore& core = this->core();
    return core.send_with(*reactor_, packet.channel(), [&](detail::Outbox& outbox, std::size_t* frame, std::size_t* written) {
        return detail::push_recorded(core.recorder.get(), packet, core.id(),
                                     [&] { return outbox.push(packet, movable, frame, written); });
    }, true);
}

bool Sprocket::send(std::initializer_list<Map::Field> fields) {
    ClientCore& core = this->core();
    if (core.recorder) return send(Packet(fields));  // the recording keeps the packet itself
    return core.send_with(*reactor_, "", [&](detail::Outbox& outbox, std::size_t* frame, std::size_t* written) {
        return outbox.push_literal(fields, frame, written);
    }, true);
}

std::vector<Packet> Sprocket::get() {
    return detail::unread(core().latest, false, [&](auto select) { return packets_of(core_, select); });
}

std::vector<Packet> Sprocket::get(std::string_view channel) {
    core();
    return packets_of(core_, channel_only(channel));
}

std::vector<Packet> Sprocket::get(Millis timeout) {
    ClientCore& core = this->core();
    detail::unread(core.latest, false, [&](auto select) {
        return core.inbox.wait(timeout, detail::packet_among(select), [&] { return core.over(); });
    });
    return get();
}

std::optional<Packet> Sprocket::latest(std::string_view channel) {
    core().latest.add(channel);
    auto packets = packets_of(core_, detail::latest_of(channel));
    if (packets.empty()) return std::nullopt;
    return std::move(packets.back());
}

std::vector<Event> Sprocket::poll() {
    return detail::unread(core().latest, false, [&](auto select) { return drain(core_, select); });
}

bool Sprocket::wait(Millis timeout) {
    return core().inbox.wait(timeout, any_event, [] { return false; });
}

bool Sprocket::wait_connected(Millis timeout) {
    ClientCore& core = this->core();
    core.inbox.wait(timeout, [](const Event&) { return false; },
                    [&] { return core.status().state != State::connecting; });
    return connected();
}

void Sprocket::on(EventKind kind, std::function<void(const Event&)> callback) {
    core().callbacks.set(kind, std::move(callback),
                         {EventKind::connected, EventKind::disconnected, EventKind::reconnecting, EventKind::stalled}, "Sprocket");
}

Status Sprocket::status() const { return core().status(); }

ClientId Sprocket::id() const { return core().id(); }

std::chrono::microseconds Sprocket::rtt() const { return core().rtt(); }

Stats Sprocket::stats() const { return core().stats(); }

RecordingStatus Sprocket::recording() const { return detail::recording_status(core().recorder.get()); }

void Sprocket::close() {
    core();
    reactor_->run_and_wait([core = core_] { core->shutdown(detail::SteadyClock::now()); });
    if (core_->recorder) core_->recorder->flush();
}

}  // namespace sprocket

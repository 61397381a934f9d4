#include "servo_core.hpp"

#include <sprocket/detail/control.hpp>

#include <algorithm>
#include <stdexcept>

namespace sprocket::detail {
namespace {

// After accept() fails (typically: no descriptor left), the listener rests this long.
constexpr Millis accept_backoff{100};
// Connections accepted per readiness of a listener; more wait for the next turn of the loop.
constexpr int accepts_per_turn = 64;

const char* reject_text(RejectCode code) {
    switch (code) {
    case RejectCode::server_full: return "server full";
    case RejectCode::wrong_password: return "wrong password";
    case RejectCode::version_mismatch: return "version mismatch";
    case RejectCode::wrong_application: return "wrong application";
    case RejectCode::bad_hello: return "bad hello";
    }
    return "rejected";
}

}  // namespace

// --- ServerLink ----------------------------------------------------------------------------------

ServerLink::ServerLink(std::shared_ptr<ServoCore> core, std::unique_ptr<TcpStream> socket, TimePoint now)
    : Connection(core->options), core_(std::move(core)), accepted_at_(now) {
    address_ = socket->getRemoteAddress().toString();
    port_ = socket->getRemotePort();
    adopt(std::move(socket), now);
}

ClientInfo ServerLink::info(ClientId id) const { return ClientInfo{id, address_, port_, rtt(), stats()}; }

void ServerLink::reject(RejectCode code, const std::string& text, TimePoint now) {
    send_control([&](Bytes& out) { append_reject(out, Reject{code, text}); });
    close(CloseReason::rejected, text, Farewell::flush, now);
}

void ServerLink::on_handshake(const FrameView& frame, TimePoint now) {
    if (frame.kind != static_cast<std::uint8_t>(FrameKind::hello)) {
        close(CloseReason::protocol_error, "expected a hello", Farewell::goodbye, now);
        return;
    }
    const auto hello = parse_hello(frame);
    if (!hello) return reject(RejectCode::bad_hello, "bad hello: not a sprocket client", now);
    if (hello->version != protocol_version) {
        return reject(RejectCode::version_mismatch,
                      "version mismatch: server speaks protocol " + std::to_string(protocol_version) +
                          ", client " + std::to_string(hello->version),
                      now);
    }
    if (hello->application != options().application) {
        return reject(RejectCode::wrong_application,
                      "wrong application: server runs '" + printable(options().application) + "', client '" +
                          printable(hello->application) + "'",
                      now);
    }
    if (!same_secret(hello->password, options().password)) return reject(RejectCode::wrong_password, "wrong password", now);
    // Before `admit`: a send on another thread may come right after it.
    outbox().set_max_frame(hello->max_frame != 0 ? hello->max_frame : unsaid_max_frame);
    RejectCode why = RejectCode::server_full;
    const ClientId id = core_->admit(shared_from_this(), why);
    if (id == 0) return reject(why, reject_text(why), now);
    id_ = id;
    // First in the queue: `send`/`sendall` on another thread may have queued a packet for this
    // client since `admit` registered it.
    send_control([&](Bytes& out) { append_welcome(out, Welcome{id, protocol_version, static_cast<std::uint32_t>(options().max_frame_size)}); }, true);
    open(now);
    report(Event{EventKind::joined, id, {}, CloseReason::none, address_ + ":" + std::to_string(port_)});
}

void ServerLink::on_packet(Packet packet, Encoded body, std::size_t bytes) {
    report(Event{EventKind::packet, id_, std::move(packet), CloseReason::none, ""}, std::move(body), bytes);
}

void ServerLink::report(Event event, Encoded body, std::size_t bytes) {
    record_event(core_->recorder.get(), event, body, event.detail);
    // Packets are announced once per read (on_frames_done); other events wake waiters at once.
    if (event.kind == EventKind::packet) core_->inbox.push_packet(std::move(event), std::move(body), bytes, budget());
    else core_->inbox.push(std::move(event));
}

void ServerLink::on_frames_done() { core_->inbox.announce(); }

Inbox& ServerLink::receiving() { return core_->inbox; }

void ServerLink::on_closed(CloseReason reason, const std::string& detail, TimePoint) {
    if (id_ == 0) {  // never joined: a refusal, unless the server is the one going away
        if (reason != CloseReason::server_shutdown) core_->refuse(Refusal{address_, port_, reason, detail});
        return;
    }
    core_->left(id_);
    report(Event{EventKind::left, id_, {}, reason, detail});
}

void ServerLink::on_released(TimePoint) { core_->released(this); }

// --- Listener ------------------------------------------------------------------------------------

Listener::Listener(std::shared_ptr<ServoCore> core, std::unique_ptr<TcpAcceptor> acceptor)
    : core_(std::move(core)), acceptor_(std::move(acceptor)) {}

int Listener::descriptor() const {
    return acceptor_ && resume_at_ == no_deadline ? static_cast<int>(acceptor_->getHandle()) : -1;
}

TimePoint Listener::service(TimePoint now) {
    if (resume_at_ != no_deadline && now >= resume_at_) resume_at_ = no_deadline;
    return resume_at_;
}

void Listener::ready(short, TimePoint now) {
    // A bounded turn: a flood of connects cannot keep the I/O thread from the others.
    for (int turn = 0; acceptor_ && turn < accepts_per_turn; ++turn) {
        auto socket = std::make_unique<TcpStream>();
        const sf::Socket::Status status = acceptor_->accept_stream(*socket);
        if (status == sf::Socket::Done) {
            core_->accept(std::move(socket), now);
            continue;
        }
        // NotReady: nothing more to accept. Error: most likely no descriptor left; rest a
        // little instead of spinning on a listener that stays readable.
        if (status != sf::Socket::NotReady) resume_at_ = now + accept_backoff;
        return;
    }
}

// --- ServoCore -----------------------------------------------------------------------------------

ServoCore::ServoCore(Reactor& r, const ServoOptions& o)
    : options(o), reactor(r), inbox(r), recorder(open_recorder(o, RecordRole::server)) {}

std::uint16_t ServoCore::listen(const std::string& host, std::uint16_t port) {
    const sf::IpAddress address(host);
    const std::string where = host + ":" + std::to_string(port);
    if (address == sf::IpAddress::None && host != "255.255.255.255")
        throw std::runtime_error("servo: cannot listen on " + where + " (not an address of this machine)");
    auto acceptor = std::make_unique<TcpAcceptor>();
    acceptor->setBlocking(false);
    int error = 0;
    if (!acceptor->open(port, address, error))
        throw std::runtime_error("servo: cannot listen on " + where + " (" + error_text(error) + ")");
    const std::uint16_t bound = acceptor->getLocalPort();
    auto listener = std::make_shared<Listener>(shared_from_this(), std::move(acceptor));
    {
        std::lock_guard<std::mutex> lock(mutex_);
        listeners_.push_back(listener);
        if (first_port_ == 0) first_port_ = bound;
    }
    reactor.post([this, listener] {
        if (shut_down_) listener->stop();
        reactor.add(listener);
    });
    return bound;
}

void ServoCore::accept(std::unique_ptr<TcpStream> socket, TimePoint now) {
    if (shut_down_) return;  // the socket closes here
    if (pending_.size() >= options.max_pending) {
        // Full of connections that have not said hello: the oldest makes room. Silent
        // connections (slowloris) then cannot lock real clients out, who say hello at once.
        ServerLink* oldest = *std::min_element(pending_.begin(), pending_.end(), [](ServerLink* a, ServerLink* b) {
            return a->accepted_at() < b->accepted_at();
        });
        oldest->drop(CloseReason::timeout, "evicted: " + std::to_string(options.max_pending) +
                                               " connections already waiting for a handshake", now);
        pending_.erase(oldest);
    }
    auto link = std::make_shared<ServerLink>(shared_from_this(), std::move(socket), now);
    pending_.insert(link.get());
    reactor.add(link);
}

ClientId ServoCore::admit(const std::shared_ptr<ServerLink>& link, RejectCode& why) {
    pending_.erase(link.get());
    std::lock_guard<std::mutex> lock(mutex_);
    if (clients_.size() >= options.max_clients) {
        why = RejectCode::server_full;
        return 0;
    }
    // Ids are never 0 and never shared, even after 2^32 joins wrap the counter around.
    while (next_id_ == 0 || clients_.count(next_id_) != 0) ++next_id_;
    const ClientId id = next_id_++;
    clients_.emplace(id, link);
    ++joined_total_;
    return id;
}

void ServoCore::left(ClientId client) {
    std::lock_guard<std::mutex> lock(mutex_);
    clients_.erase(client);
}

void ServoCore::released(ServerLink* link) {
    pending_.erase(link);
    const Stats s = link->stats();
    gone_.packets_sent += s.packets_sent;
    gone_.packets_received += s.packets_received;
    gone_.bytes_sent += s.bytes_sent;
    gone_.bytes_received += s.bytes_received;
}

void ServoCore::refuse(Refusal refusal) {
    constexpr std::size_t kept = 256;
    std::lock_guard<std::mutex> lock(mutex_);
    ++refused_total_;
    refusals_.push_back(std::move(refusal));
    if (refusals_.size() > kept) refusals_.pop_front();
}

std::vector<Refusal> ServoCore::take_refusals() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Refusal> out(std::make_move_iterator(refusals_.begin()), std::make_move_iterator(refusals_.end()));
    refusals_.clear();
    return out;
}

ServoStats ServoCore::stats() {
    ServoStats out;
    reactor.run_and_wait([&] {
        out = gone_;
        const auto count = [&](const Connection& link) {
            const Stats s = link.stats();
            out.buffered += s.send_queue + s.read_buffer;  // received packets: counted by the inbox
            out.packets_sent += s.packets_sent;
            out.packets_received += s.packets_received;
            out.bytes_sent += s.bytes_sent;
            out.bytes_received += s.bytes_received;
            out.packets_sent_per_second += s.packets_sent_per_second;
            out.packets_received_per_second += s.packets_received_per_second;
            out.bytes_sent_per_second += s.bytes_sent_per_second;
            out.bytes_received_per_second += s.bytes_received_per_second;
        };
        for (const ServerLink* link : pending_) count(*link);
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& [id, link] : clients_) count(*link);
        out.clients = clients_.size();
        out.pending = pending_.size();
        out.joined = joined_total_;
        out.refused = refused_total_;
    });
    out.buffered += inbox.bytes();
    return out;
}

bool ServoCore::kick(ClientId client, const std::string& reason, TimePoint now) {
    const auto link = find(client);
    if (!link) return false;
    link->end(CloseReason::kicked, reason, now);
    return true;
}

void ServoCore::shutdown(TimePoint now) {
    shut_down_ = true;
    std::vector<std::shared_ptr<Listener>> listeners;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        listeners.swap(listeners_);
    }
    for (auto& listener : listeners) listener->stop();
    for (auto& [id, link] : links()) link->end(CloseReason::server_shutdown, "server shutting down", now);
    const std::set<ServerLink*> pending = pending_;
    for (ServerLink* link : pending) link->end(CloseReason::server_shutdown, "server shutting down", now);
}

std::shared_ptr<ServerLink> ServoCore::find(ClientId client) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = clients_.find(client);
    return it == clients_.end() ? nullptr : it->second;
}

std::vector<std::pair<ClientId, std::shared_ptr<ServerLink>>> ServoCore::links() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {clients_.begin(), clients_.end()};
}

std::uint16_t ServoCore::first_port() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return first_port_;
}

std::vector<ClientInfo> ServoCore::clients() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<ClientInfo> out;
    out.reserve(clients_.size());
    for (const auto& [id, link] : clients_) out.push_back(link->info(id));
    return out;
}

}  // namespace sprocket::detail

#include <sprocket/detail/connection.hpp>

#include <sprocket/codec.hpp>
#include <sprocket/detail/control.hpp>

#include <algorithm>
#include <random>
#include <stdexcept>

namespace sprocket::detail {
namespace {

// Reads go straight into the frame decoder, at least this much at a time (many small frames
// arrive in one call) and at most the second (a big frame is buffered as its bytes arrive).
constexpr std::size_t min_read = std::size_t{64} << 10;   // bytes
constexpr std::size_t max_read = std::size_t{1} << 20;    // bytes
// One connection's turn on the I/O thread reads at most this much, so others are served too.
constexpr std::size_t read_turn = std::size_t{1} << 20;   // bytes
// A socket counts as writable while less than this is unsent in the kernel (TCP_NOTSENT_LOWAT):
// pieces of a big frame go out one per drained socket, so small frames never queue behind more.
constexpr int unsent_mark = 256 << 10;  // bytes
// A simulated bandwidth cap: bytes are taken from the outbox once the link has less than this
// of its time left to send what it holds, and a big frame goes in pieces of about sim_piece.
constexpr auto sim_backlog = std::chrono::milliseconds(5);
constexpr auto sim_piece = std::chrono::milliseconds(10);

std::uint64_t stamp(TimePoint t) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

std::string ms(Millis d) { return std::to_string(d.count()) + " ms"; }

}  // namespace

void Connection::prepare(ConnectionOptions& options) {
    if (!options.simulate.active()) options.simulate = simulation_from_environment();
    auto fail = [](const std::string& what) { throw std::invalid_argument("sprocket: " + what); };
    if (options.application.size() > max_short_string) fail("the application name is longer than 255 bytes");
    if (options.password.size() > max_short_string) fail("the password is longer than 255 bytes");
    if (options.heartbeat_interval.count() <= 0) fail("heartbeat_interval must be positive");
    if (options.timeout <= options.heartbeat_interval) fail("timeout must be longer than heartbeat_interval");
    if (options.handshake_timeout.count() <= 0) fail("handshake_timeout must be positive");
    if (options.max_frame_size == 0 || options.max_frame_size > max_frame_size_limit)
        fail("max_frame_size must be between 1 and 4294967295");
    if (options.max_send_queue == 0) fail("max_send_queue must be positive");
}

Connection::Connection(const ConnectionOptions& options)
    : options_(options),
      outbox_(options.max_send_queue, unsaid_max_frame),  // the peer's own, once its handshake says it
      decoder_(std::min(options.max_frame_size, max_frame_size_limit)) {}

int Connection::descriptor() const {
    // After the peer's end, epoll(7) would report the hangup at once, again and again: the
    // simulation's timer delivers what is left instead.
    return socket_ && phase_ != Phase::idle && !peer_ended_ ? static_cast<int>(socket_->getHandle()) : -1;
}

bool Connection::sim_full() const {
    // The simulated link holds as much as it may, or the peer's end is already read.
    return peer_ended_ || (sim_in_ && sim_in_->bytes() >= options_.max_receive_queue);
}

bool Connection::reading() const {
    return (phase_ == Phase::handshake || phase_ == Phase::open) && !budget_->paused.load();
}

short Connection::interest() const {
    short want = 0;
    if (phase_ == Phase::connecting) return writable;
    if ((reading() && !sim_full()) || (phase_ == Phase::closing && write_shut_)) want |= readable;
    if (written_ < writing_.size() || drain_first_) want |= writable;
    return want;
}

void Connection::start_connect(const sf::IpAddress& address, std::uint16_t port, TimePoint now) {
    closing_descriptor();  // the old socket, if any, leaves epoll before it closes
    socket_ = std::make_unique<TcpStream>();
    decoder_ = FrameDecoder(decoder_.max_frame_size());
    writing_.clear();
    writing_cut_ = 0;
    written_ = 0;
    write_shut_ = false;
    deadline_ = now + options_.handshake_timeout;
    phase_ = Phase::connecting;
    start_simulation(now);
    // A plain non-blocking connect(2), never SFML's connect with a timeout (select(): it aborts
    // the process on a descriptor above 1023).
    int error = 0;
    const sf::Socket::Status status = socket_->connect_nonblocking(address, port, error);
    if (socket_->getHandle() != sf::SocketHandle(-1)) limit_unsent(static_cast<int>(socket_->getHandle()), unsent_mark);
    if (status == sf::Socket::Done) {
        phase_ = Phase::handshake;
        on_tcp_connected(now);
    } else if (status != sf::Socket::NotReady) {
        const bool no_descriptor = socket_->getHandle() == sf::SocketHandle(-1);
        close(CloseReason::connect_failed,
              no_descriptor ? "no free socket descriptor (" + error_text(error) + ")" : error_text(error),
              Farewell::drop, now);
    }
}

void Connection::adopt(std::unique_ptr<TcpStream> socket, TimePoint now) {
    closing_descriptor();  // the old socket, if any, leaves epoll before it closes
    socket_ = std::move(socket);
    socket_->setBlocking(false);
    limit_unsent(static_cast<int>(socket_->getHandle()), unsent_mark);
    phase_ = Phase::handshake;
    deadline_ = now + options_.handshake_timeout;
    last_heard_ = now;
    start_simulation(now);
}

void Connection::start_simulation(TimePoint now) {
    peer_ended_ = false;
    if (!options_.simulate.active()) return;
    std::uint32_t seed = options_.simulate.seed;
    if (seed == 0) seed = std::random_device{}();
    sim_out_.emplace(options_.simulate, now, seed);
    sim_more_at_ = no_deadline;
    // Pieces of about sim_piece of the link's time: what other frames wait behind at most.
    const std::size_t rate = options_.simulate.bandwidth;
    outbox_.cap_pieces(rate == 0 ? SIZE_MAX : std::max<std::size_t>(rate * sim_piece.count() / 1000, 1024));
    sim_in_.emplace(options_.simulate, now, seed ^ 0x9e3779b9u);
}

TimePoint Connection::simulation_due() const {
    if (!sim_out_ || phase_ == Phase::idle) return no_deadline;
    // While the socket is full, what is due waits for it to drain (writable), not for a timer.
    const bool blocked = written_ < writing_.size();
    return std::min({blocked ? no_deadline : sim_out_->next_due(), sim_in_->next_due(), sim_more_at_});
}

void Connection::feed_simulation(TimePoint now) {
    // A real link takes bytes only as fast as it carries them, and so does the simulated one:
    // what it could not have sent by now stays in the outbox (still counted as unsent), where
    // other channels' packets and heartbeats pass the pieces of a big frame.
    if (options_.simulate.bandwidth == 0) {  // no cap: everything leaves at once
        outbox_.take(staged_, true);
        sim_out_->push(now, staged_.data(), staged_.size());
        staged_.clear();
        took_ = true;
        return;
    }
    while (outbox_.has_data()) {
        const TimePoint free = sim_out_->link_free();
        if (free - now > sim_backlog) {
            sim_more_at_ = free - sim_backlog;
            return;
        }
        outbox_.take(staged_);  // the queued small frames, then one piece of a big one
        sim_out_->push(now, staged_.data(), staged_.size());
        staged_.clear();
        took_ = true;
    }
}

void Connection::deliver(TimePoint now) {
    if (!sim_in_ || phase_ == Phase::idle) return;
    Bytes due;
    if (sim_in_->take_due(now, due) > 0 && phase_ != Phase::closing) {
        decoder_.feed(due.data(), due.size());
        last_heard_ = now;
        process(now);
        read_buffer_.store(decoder_.capacity(), std::memory_order_relaxed);
    }
    if (peer_ended_ && sim_in_ && sim_in_->empty()) {
        peer_ended_ = false;
        lost(end_status_, end_error_, now);
    }
}

void Connection::open(TimePoint now) {
    phase_ = Phase::open;
    deadline_ = no_deadline;
    last_heard_ = now;
    next_ping_ = now + options_.heartbeat_interval;
}

void Connection::close(CloseReason reason, std::string detail, Farewell farewell, TimePoint now) {
    if (phase_ == Phase::closing || phase_ == Phase::idle) return;
    // Packets read before the close are in the inbox before the game can see the close
    // (status(), clients()): one that sees "disconnected" and drains finds them all.
    on_frames_done();
    outbox_.forbid_direct();
    const bool had_socket = phase_ != Phase::connecting;
    const bool at_once = farewell == Farewell::drop || !had_socket;
    phase_ = Phase::closing;
    next_ping_ = no_deadline;
    pause_.resume(receiving(), *budget_);
    reconnecting_ = reconnects_after(reason);
    if (farewell == Farewell::goodbye && had_socket) {
        // This side's own close (`close()`, destroying the endpoint) says goodbye after every
        // packet queued before it, a big one's pieces included. A kick, a shutdown, a timeout or
        // an error says it ahead of a big packet still going (the peer must learn why within
        // `linger`; the rest of that packet would be cut anyway), after the small ones queued.
        const auto goodbye = [&](Bytes& out) { append_goodbye(out, Goodbye{reason, detail}); };
        if (reason == CloseReason::closed) outbox_.push_final(goodbye);
        else send_control(goodbye);
    } else if (farewell == Farewell::goodbye_only && had_socket) {
        replace_queue(Goodbye{reason, detail});
    }
    // Settle the outbox before the game hears of the close, so a packet it sends in reply to
    // the event (say, while reconnecting) is not swept away with the old stream.
    if (at_once) {
        drop_stream();
    } else if (!reconnecting_) {
        outbox_.stop_accepting();
    } else {
        // The old socket gets what was queued up to the goodbye; what the game sends from now
        // on stays in the outbox for the next connection.
        Bytes rest;
        outbox_.take(rest, true);
        if (sim_out_) sim_out_->push(now, rest.data(), rest.size());
        else writing_.insert(writing_.end(), rest.begin(), rest.end());
        took_ = false;
    }
    on_closed(reason, detail, now);
    if (at_once) {
        release(now);
        return;
    }
    deadline_ = now + options_.linger;
    flush(now);
}

void Connection::replace_queue(const Goodbye& goodbye) {
    // The frame being written when the close came must be finished (the peer could read
    // nothing after half a frame); the frames behind it are dropped. Through a simulated
    // network, what it took is on the wire already, and is whole frames.
    if (!sim_out_) {
        std::size_t keep = std::min(writing_cut_, writing_.size());
        while (keep < written_ && keep + frame_header_size <= writing_.size()) {
            std::size_t size = 0;
            for (std::size_t i = 0; i < 4; ++i) size |= std::size_t{writing_[keep + i]} << (8 * i);
            keep += frame_header_size + size;
        }
        writing_.resize(std::min(keep, writing_.size()));
    }
    Bytes frame;
    append_goodbye(frame, goodbye);
    const std::size_t in_flight = writing_.size() - written_ + (sim_out_ ? sim_out_->bytes() : 0);
    outbox_.drop_queued(in_flight, frame, reconnecting_);
}

void Connection::drop_stream() {
    // A stream cut mid-way cannot be resumed on another socket; untouched frames can be.
    std::size_t leftover = writing_.size() - written_;
    if (sim_out_) {
        leftover += sim_out_->bytes();
        sim_out_->clear();
    }
    writing_.clear();
    writing_cut_ = 0;
    written_ = 0;
    if (took_ || outbox_.wrote_direct() || !reconnecting_) outbox_.reset(reconnecting_);
    else if (leftover > 0) outbox_.sent(leftover);  // the old stream's tail, no longer ours to send
    took_ = false;
}

void Connection::release(TimePoint now) {
    outbox_.forbid_direct();  // before the descriptor can be closed and reused
    drain_first_ = false;
    closing_descriptor();
    if (socket_) socket_->disconnect();
    socket_.reset();
    phase_ = Phase::idle;
    deadline_ = no_deadline;
    drop_stream();
    decoder_ = FrameDecoder(decoder_.max_frame_size());  // a partial frame's memory goes now
    assembly_ = Bytes();
    direct_ = 0;
    read_buffer_.store(0, std::memory_order_relaxed);
    sim_out_.reset();
    sim_in_.reset();
    sim_more_at_ = no_deadline;
    peer_ended_ = false;
    on_released(now);
}

TimePoint Connection::service(TimePoint now) {
    if (budget_->paused.load() && phase_ == Phase::open && budget_->queued.load() > options_.max_receive_queue) {
        if (auto stall = pause_.stalled(receiving(), *budget_, now)) on_stalled(*stall);  // the game reads, but not these
    }
    if (budget_->paused.load() && budget_->queued.load() <= options_.max_receive_queue) {
        pause_.resume(receiving(), *budget_);  // the game took its packets: read again
        if (decoder_.buffered() > 0 && (phase_ == Phase::handshake || phase_ == Phase::open)) {
            process(now);  // frames read before the pause
            read_buffer_.store(decoder_.capacity(), std::memory_order_relaxed);
        }
    }
    // An overflow closes the connection, which still lingers to send its goodbye.
    if (phase_ != Phase::idle && phase_ != Phase::closing) overflowed(now);
    deliver(now);
    // serve() first: it may put frames on the simulated link (flush, feed_simulation), whose
    // timer simulation_due() must then include. (As arguments of one call the two would run in
    // either order; g++ asks simulation_due() first, and a welcome waited for the heartbeat.)
    const TimePoint next = serve(now);
    return std::min(next, simulation_due());
}

TimePoint Connection::serve(TimePoint now) {
    switch (phase_) {
    case Phase::idle:
        return no_deadline;
    case Phase::connecting:
    case Phase::handshake:
        if (now >= deadline_) {
            if (phase_ == Phase::connecting) {
                close(CloseReason::connect_failed, "not connected within " + ms(options_.handshake_timeout),
                      Farewell::drop, now);
            } else {
                close(CloseReason::timeout, "no handshake within " + ms(options_.handshake_timeout),
                      Farewell::drop, now);
            }
            return no_deadline;
        }
        if (phase_ == Phase::handshake) flush(now);
        return deadline_;
    case Phase::open:
        measure_rates(now);
        if (budget_->paused.load()) last_heard_ = now;  // the silence is ours: we stopped reading
        // Bytes waiting in the socket were heard, just not read yet (the I/O thread was busy).
        if (now - last_heard_ >= options_.timeout && pending_input(static_cast<int>(socket_->getHandle())) > 0)
            last_heard_ = now;
        if (now - last_heard_ >= options_.timeout) {
            close(CloseReason::timeout, "nothing heard for " + ms(options_.timeout), Farewell::goodbye, now);
            return deadline_;
        }
        if (now >= next_ping_) {
            const std::uint64_t sent = stamp(now);
            pings_[pings_sent_++ % pings_.size()] = sent;
            send_control([&](Bytes& out) { append_ping(out, FrameKind::ping, sent); });
            next_ping_ = now + options_.heartbeat_interval;
        }
        flush(now);
        if (phase_ != Phase::open) return deadline_;
        return std::min({next_ping_, last_heard_ + options_.timeout, recheck_});
    case Phase::closing:
        if (now >= deadline_) {
            release(now);
            return no_deadline;
        }
        flush(now);
        return deadline_;
    }
    return no_deadline;
}

bool Connection::overflowed(TimePoint now) {
    if (!outbox_.overflowed()) return false;
    close(CloseReason::queue_overflow,
          "send queue overflow: more than " + std::to_string(outbox_.limit()) + " bytes unsent",
          Farewell::goodbye_only, now);
    return true;
}

void Connection::ready(short readiness, TimePoint now) {
    if (phase_ == Phase::connecting) {
        const int error = take_socket_error(static_cast<int>(socket_->getHandle()));
        if (error != 0) {
            close(CloseReason::connect_failed, error_text(error), Farewell::drop, now);
            return;
        }
        phase_ = Phase::handshake;
        last_heard_ = now;
        on_tcp_connected(now);
        flush(now);
        return;
    }
    if (readiness & writable) {
        drain_first_ = false;  // the kernel holds less than its low-water mark now: next piece
        flush(now);
    }
    if (phase_ == Phase::idle) return;
    if (interest() & readable) {
        if (readiness & (readable | hangup | failed)) read(now);
    } else if ((readiness & (hangup | failed)) && !peer_ended_) {
        // Not reading (paused), yet the socket failed: epoll(7) would report it forever.
        const int error = take_socket_error(static_cast<int>(socket_->getHandle()));
        ended(error != 0 ? sf::Socket::Error : sf::Socket::Disconnected, error, now);
    }
}

Stats Connection::stats() const {
    Stats stats;
    stats.packets_sent = packets_sent_.load(std::memory_order_relaxed);
    stats.packets_received = packets_received_.load(std::memory_order_relaxed);
    stats.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
    stats.bytes_received = bytes_received_.load(std::memory_order_relaxed);
    stats.rtt = rtt();
    stats.rtt_min = std::chrono::microseconds(rtt_min_us_.load());
    stats.rtt_jitter = std::chrono::microseconds(rtt_jitter_us_.load());
    stats.packets_sent_per_second = rates_[0].load(std::memory_order_relaxed);
    stats.packets_received_per_second = rates_[1].load(std::memory_order_relaxed);
    stats.bytes_sent_per_second = rates_[2].load(std::memory_order_relaxed);
    stats.bytes_received_per_second = rates_[3].load(std::memory_order_relaxed);
    stats.send_queue = outbox_.unsent();
    stats.receive_queue = budget_->queued.load();
    stats.receive_paused = budget_->paused.load();
    if (stats.receive_paused) {
        Inbox::Waiting stall = pause_.waiting();
        stats.stalled_channel = std::move(stall.channel);
        stats.stalled_packets = stall.packets;
    }
    stats.read_buffer = read_buffer_.load(std::memory_order_relaxed);
    stats.channels = channels_.snapshot();
    return stats;
}

void Connection::read(TimePoint now) {
    read_some(now);
    read_buffer_.store(decoder_.capacity() + assembly_.capacity(), std::memory_order_relaxed);
}

void Connection::read_some(TimePoint now) {
    std::size_t turn = 0;
    while (socket_ && turn < read_turn) {
        const bool discard = phase_ == Phase::closing;
        if (!discard && (!reading() || sim_full())) return;
        // A big fragment's body is read straight into the assembly buffer.
        if (!discard && !sim_in_ && direct_ == 0 && divert(now) && phase_ != Phase::open) return;  // a bad one
        if (!discard && direct_ > 0) {
            if (!read_direct(turn, now)) return;
            continue;
        }
        const std::size_t want = std::clamp(decoder_.needed(), min_read, max_read);
        std::uint8_t* into = decoder_.prepare(want);
        std::size_t got = 0;
        const sf::Socket::Status status = socket_->receive(into, want, got);
        const int error = last_error();
        // The simulated network holds what was read back until it is due (deliver).
        const bool delayed = sim_in_ && !discard && status == sf::Socket::Done;
        if (delayed) sim_in_->push(now, into, got);
        decoder_.commit(discard || delayed ? 0 : got);
        if (status == sf::Socket::NotReady) return;
        if (status != sf::Socket::Done) {
            ended(status, error, now);
            return;
        }
        turn += got;
        bytes_received_.fetch_add(got, std::memory_order_relaxed);
        if (discard) continue;
        if (!delayed) {
            last_heard_ = now;
            if (!process(now)) return;
        }
        if (got < want) return;  // the socket is drained for now
    }
}

bool Connection::process(TimePoint now) {
    FrameView frame;
    FrameStatus next;
    while (reading() && (next = decoder_.next(frame)) == FrameStatus::ready) handle(frame, now);
    on_frames_done();
    if (heard_) {  // once per read, not per packet: the game's thread reads it at each push
        heard_ = false;
        outbox_.heard();
    }
    if (decoder_.failed()) {
        close(CloseReason::protocol_error, decoder_.error().message, Farewell::goodbye, now);
        return false;
    }
    if (overflowed(now)) return false;  // e.g. pings answered faster than the peer reads pongs
    if (phase_ == Phase::open && budget_->queued.load() > options_.max_receive_queue) pause_.pause(receiving(), *budget_);
    return true;
}

void Connection::handle(const FrameView& frame, TimePoint now, Bytes* adopt) {
    const auto kind = static_cast<FrameKind>(frame.kind);
    switch (kind) {
    case FrameKind::packet: {
        if (phase_ != Phase::open) {
            close(CloseReason::protocol_error, "packet before the handshake", Farewell::goodbye, now);
            return;
        }
        // Checked here, decoded by the thread that takes it (detail/encoded.hpp).
        const CheckResult checked = check(frame.body, frame.size);
        if (!checked) {
            close(CloseReason::protocol_error, "bad packet: " + checked.error().message, Farewell::goodbye, now);
            return;
        }
        // Counted as decoded, not as sent: a list of a million nulls is 1 MB on the wire but
        // tens of MB in memory, and the receive budget must count the latter.
        Packet packet;
        packet.set_channel(std::string(checked.channel()));
        packets_received_.fetch_add(1, std::memory_order_relaxed);
        heard_ = true;
        channels_.received(packet.channel(), frame_header_size + frame.size);
        // A view of the read buffer: the inbox copies it (Encoded::keep).
        Encoded body = adopt ? Encoded(std::move(*adopt), frame_header_size) : Encoded::view(frame.body, frame.size);
        on_packet(std::move(packet), std::move(body), checked.footprint());
        return;
    }
    case FrameKind::hello:
    case FrameKind::welcome:
    case FrameKind::reject:
        if (phase_ != Phase::handshake) {
            close(CloseReason::protocol_error, "handshake frame after the handshake", Farewell::goodbye, now);
            return;
        }
        on_handshake(frame, now);
        return;
    case FrameKind::ping:
    case FrameKind::pong: {
        const auto stamped = parse_ping(frame);
        if (!stamped) {
            close(CloseReason::protocol_error, "malformed heartbeat", Farewell::goodbye, now);
            return;
        }
        if (kind == FrameKind::ping) {
            send_control([&](Bytes& out) { append_ping(out, FrameKind::pong, *stamped); });
            return;
        }
        // Only the answer to one of our recent pings is a sample; anything else is ignored.
        const std::uint64_t sent = *stamped;
        if (sent == 0 || std::find(pings_.begin(), pings_.end(), sent) == pings_.end()) return;
        measure_rtt(static_cast<std::int64_t>(stamp(now) - sent));
        return;
    }
    case FrameKind::fragment:
        assemble(frame, now);
        return;
    case FrameKind::goodbye: {
        const auto goodbye = parse_goodbye(frame);
        if (!goodbye) {
            close(CloseReason::protocol_error, "malformed goodbye", Farewell::drop, now);
            return;
        }
        // Only a server's word is taken for why (kicked, shutting down); anything else the
        // peer says is reported as its closing, with its reason as the detail.
        const bool believed = trusts_goodbye(goodbye->reason);
        const CloseReason reason = believed ? goodbye->reason : CloseReason::closed_by_peer;
        std::string text = believed || goodbye->reason == CloseReason::closed ? std::string() : to_string(goodbye->reason);
        if (!goodbye->text.empty()) text += (text.empty() ? "" : ": ") + goodbye->text;
        close(reason, text.empty() ? std::string("goodbye from peer") : text, Farewell::drop, now);
        return;
    }
    }
    close(CloseReason::protocol_error, "unknown frame kind " + std::to_string(frame.kind), Farewell::goodbye, now);
}

void Connection::ended(sf::Socket::Status status, int error, TimePoint now) {
    if (sim_in_ && !sim_in_->empty() && phase_ != Phase::closing) {
        peer_ended_ = true;
        end_status_ = status;
        end_error_ = error;
        return;
    }
    lost(status, error, now);
}

void Connection::measure_rtt(std::int64_t sample) {
    // Smoothed like TCP's SRTT and RTTVAR (RFC 6298): 1/8 and 1/4 of each new sample.
    const std::int64_t old = rtt_us_.load();
    const std::int64_t min = rtt_min_us_.load();
    if (old == 0) {
        rtt_us_.store(sample);
        rtt_jitter_us_.store(sample / 2);
    } else {
        const std::int64_t deviation = sample > old ? sample - old : old - sample;
        const std::int64_t jitter = rtt_jitter_us_.load();
        rtt_jitter_us_.store(jitter + (deviation - jitter) / 4);
        rtt_us_.store(old + (sample - old) / 8);
    }
    if (min == 0 || sample < min) rtt_min_us_.store(sample);
}

void Connection::measure_rates(TimePoint now) {
    const std::array<std::uint64_t, 4> totals{packets_sent_.load(std::memory_order_relaxed),
                                              packets_received_.load(std::memory_order_relaxed),
                                              bytes_sent_.load(std::memory_order_relaxed),
                                              bytes_received_.load(std::memory_order_relaxed)};
    if (rates_since_ == TimePoint{}) {
        rates_since_ = now;
        rates_base_ = totals;
        return;
    }
    const double seconds = std::chrono::duration<double>(now - rates_since_).count();
    if (seconds < 1.0) return;
    for (std::size_t i = 0; i < totals.size(); ++i) {
        rates_[i].store(static_cast<double>(totals[i] - rates_base_[i]) / seconds, std::memory_order_relaxed);
    }
    rates_since_ = now;
    rates_base_ = totals;
}

void Connection::assemble(const FrameView& fragment, TimePoint now) {
    if (phase_ != Phase::open) {
        close(CloseReason::protocol_error, "fragment before the handshake", Farewell::goodbye, now);
        return;
    }
    assembly_.insert(assembly_.end(), fragment.body, fragment.body + fragment.size);
    assembled(0, now);
}

bool Connection::divert(TimePoint now) {
    FrameView piece;
    const std::size_t rest = decoder_.partial(piece);
    // Small pieces are not worth it; the frame's own header must be known first (its checks).
    if (rest < min_read || piece.kind != static_cast<std::uint8_t>(FrameKind::fragment) || phase_ != Phase::open ||
        assembly_.size() + piece.size < frame_header_size)
        return false;
    assembly_.insert(assembly_.end(), piece.body, piece.body + piece.size);
    decoder_.skip_partial();
    direct_ = rest;
    if (!assembled(rest, now)) direct_ = 0;  // closed
    return true;
}

bool Connection::read_direct(std::size_t& turn, TimePoint now) {
    const std::size_t want = std::min(direct_, max_read);
    const std::size_t at = assembly_.size();
    // Room reserved already (assembled): this zero-fills `want` bytes, without reallocating.
    assembly_.resize(at + want);
    std::size_t got = 0;
    const sf::Socket::Status status = socket_->receive(assembly_.data() + at, want, got);
    const int error = last_error();
    assembly_.resize(at + got);
    if (status == sf::Socket::NotReady) return false;
    if (status != sf::Socket::Done) {
        ended(status, error, now);
        return false;
    }
    turn += got;
    direct_ -= got;
    bytes_received_.fetch_add(got, std::memory_order_relaxed);
    last_heard_ = now;
    // The fragment is in: the frame may be whole, and what follows goes through the decoder.
    if (direct_ == 0 && (!assembled(0, now) || !process(now))) return false;
    return got == want;
}

bool Connection::assembled(std::size_t coming, TimePoint now) {
    if (assembly_.size() < frame_header_size) return true;
    std::size_t size = 0;
    for (std::size_t i = 0; i < 4; ++i) size |= std::size_t{assembly_[i]} << (8 * i);
    const std::uint8_t kind = assembly_[4];
    const char* bad = nullptr;
    if (kind == static_cast<std::uint8_t>(FrameKind::fragment)) bad = "a fragment inside a fragment";
    else if (size > decoder_.max_frame_size()) bad = "fragments of a frame over max_frame_size";
    else if (assembly_.size() + coming > frame_header_size + size) bad = "fragments longer than their frame";
    if (bad) {
        close(CloseReason::protocol_error, bad, Farewell::goodbye, now);
        return false;
    }
    if (assembly_.size() < frame_header_size + size) {
        assembly_.reserve(frame_header_size + size);  // once: no regrowth as the pieces arrive
        return true;
    }
    Bytes whole = std::move(assembly_);
    assembly_ = Bytes();
    handle(FrameView{kind, whole.data() + frame_header_size, size}, now, &whole);
    return true;
}

void Connection::lost(sf::Socket::Status status, int error, TimePoint now) {
    if (phase_ == Phase::closing) {
        release(now);  // the peer's end, or the socket failed, while we were leaving anyway
        return;
    }
    close(CloseReason::closed_by_peer, status == sf::Socket::Disconnected ? "connection closed" : error_text(error),
          Farewell::drop, now);
}

void Connection::flush(TimePoint now) {
    recheck_ = no_deadline;
    sim_more_at_ = no_deadline;  // feed_simulation sets it again while the simulated link is busy
    if (!socket_ || phase_ == Phase::connecting || phase_ == Phase::idle) return;
    const bool holds = phase_ == Phase::open && !sim_out_;  // Outbox::hold applies
    for (;;) {
        if (written_ == writing_.size()) {
            writing_.clear();
            writing_cut_ = 0;
            written_ = 0;
            if (drain_first_) {  // wait for writable before the next piece of a big frame
                if (holds) outbox_.hold_for_socket();
                break;
            }
            if (holds) {
                // A stream being pushed right now leaves in a few big writes.
                const Outbox::Hold hold = outbox_.hold(now);
                recheck_ = hold.recheck;
                if (!hold.take) break;
            }
            if (outbox_.has_data() && !(phase_ == Phase::closing && reconnecting_)) {
                if (sim_out_) {
                    feed_simulation(now);
                } else {
                    drain_first_ = outbox_.take(writing_, false, &writing_cut_);
                }
            }
            if (sim_out_) sim_out_->take_due(now, writing_);
            if (writing_.empty()) break;
            took_ = true;
        }
        std::size_t sent = 0;
        const sf::Socket::Status status =
            socket_->send(writing_.data() + written_, writing_.size() - written_, sent);
        const int error = last_error();
        written_ += sent;
        if (sent > 0) {
            outbox_.sent(sent);
            bytes_sent_.fetch_add(sent, std::memory_order_relaxed);
        }
        if (status == sf::Socket::Done) continue;
        if (status == sf::Socket::Partial || status == sf::Socket::NotReady) {
            // Pushes need not wake us: the queue goes when the socket drains.
            if (holds) outbox_.hold_for_socket();
            return;
        }
        lost(status, error, now);
        return;
    }
    // Everything is out. An open connection lets `send` write straight to the socket until the
    // next bytes have to wait (no simulated network in between).
    if (phase_ == Phase::open && !sim_out_ && !drain_first_) {
        const int fd = static_cast<int>(socket_->getHandle());
        if (outbox_.direct_descriptor() != fd) outbox_.allow_direct(fd);
    }
    // A closing connection now half-closes and waits for the peer's end.
    const bool sim_holds = sim_out_ && (!sim_out_->empty() || sim_more_at_ != no_deadline);
    if (phase_ == Phase::closing && !write_shut_ && !drain_first_ && !sim_holds) {
        shutdown_write(static_cast<int>(socket_->getHandle()));
        write_shut_ = true;
    }
}

}  // namespace sprocket::detail

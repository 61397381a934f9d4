#pragma once
/// \file
/// One framed TCP connection as the I/O thread runs it: non-blocking connect or an accepted
/// socket, reads split into frames and decoded, batched writes resumed after partial sends,
/// heartbeats, timeouts, the receive budget and a graceful close. The client and server
/// handshakes are in subclasses (sprocket.cpp, servo.cpp). I/O thread only, except `outbox()`
/// and the atomics.

#include <sprocket/detail/channel_counters.hpp>
#include <sprocket/detail/control.hpp>
#include <sprocket/detail/delay_line.hpp>
#include <sprocket/detail/inbox.hpp>
#include <sprocket/detail/receive_pause.hpp>
#include <sprocket/detail/outbox.hpp>
#include <sprocket/detail/reactor.hpp>
#include <sprocket/detail/socket.hpp>
#include <sprocket/frame.hpp>
#include <sprocket/options.hpp>
#include <sprocket/stats.hpp>

#include <SFML/Network/IpAddress.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sprocket::detail {

class Connection : public Pollable {
public:
    enum class Phase : std::uint8_t {
        idle,        ///< no socket (before the first connect, or between reconnects)
        connecting,  ///< TCP connect in progress
        handshake,   ///< connected, hello/welcome not done yet
        open,        ///< packets flow
        closing,     ///< sending what is left, then the socket closes
    };
    /// How a close treats what is queued.
    enum class Farewell : std::uint8_t {
        drop,     ///< close now; queued bytes are dropped (the peer is gone or hostile)
        flush,    ///< send what is queued (e.g. a reject), then close
        goodbye,  ///< send what is queued and a goodbye frame with the reason, then close
        /// drop what is queued (the peer does not read it) but finish a frame begun on the
        /// socket, then send a goodbye frame with the reason and close
        goodbye_only,
    };

    explicit Connection(const ConnectionOptions& options);
    /// Throws std::invalid_argument for options no connection can work with (names over 255
    /// bytes, a timeout not longer than the heartbeat interval, a bad `SPROCKET_SIM`, ...), and
    /// takes the simulation from the environment when the options have none. Endpoints call it
    /// first, on the game's thread.
    static void prepare(ConnectionOptions& options);

    TimePoint service(TimePoint now) override;
    int descriptor() const override;
    short interest() const override;
    void ready(short readiness, TimePoint now) override;

    /// Any thread.
    Outbox& outbox() { return outbox_; }
    std::chrono::microseconds rtt() const { return std::chrono::microseconds(rtt_us_.load()); }
    Phase phase() const { return phase_; }
    /// The counters so far. Any thread.
    Stats stats() const;
    /// What the last `stalled` event said, while reading stays paused; "" otherwise. Any thread.
    std::string stall_text() const { return pause_.text(); }
    /// `n` bytes went to the socket straight from `send` (Outbox::push_packet). Any thread.
    void count_written(std::size_t n) { bytes_sent_.fetch_add(n, std::memory_order_relaxed); }
    /// A packet of `channel` was queued by the game (`send`) as a frame of `bytes`. Any thread.
    void count_sent(std::string_view channel, std::size_t bytes) {
        packets_sent_.fetch_add(1, std::memory_order_relaxed);
        channels_.sent(channel, bytes);
    }
    /// The game's `send` of a packet of `channel`: `push(outbox, &frame, &written)` queues it
    /// (an Outbox push); then `reactor`'s I/O thread is woken if it must be, and what went is
    /// counted. True when the packet was queued. A packet bigger than the peer accepts throws
    /// std::length_error with `too_big_throws` (a client's send: the programmer's to fix), else
    /// gives false (a server's: what a client said must not make it throw).
    template <class Push>
    bool send_with(Reactor& reactor, std::string_view channel, Push&& push, bool too_big_throws) {
        std::size_t frame = 0;
        std::size_t written = 0;
        const Outbox::Push result = push(outbox_, &frame, &written);
        count_written(written);
        if (result == Outbox::Push::overflow || outbox_.needs_io()) reactor.wake();
        if (result == Outbox::Push::too_big && too_big_throws)
            throw std::length_error(Outbox::too_big_text(frame, outbox_.max_frame()));
        if (result != Outbox::Push::queued) return false;
        count_sent(channel, frame);
        return true;
    }

protected:
    /// Starts a non-blocking connect; a failure closes with `connect_failed` at once.
    void start_connect(const sf::IpAddress& address, std::uint16_t port, TimePoint now);
    /// Takes over an accepted socket; the handshake must finish by `handshake_timeout`.
    void adopt(std::unique_ptr<TcpStream> socket, TimePoint now);
    /// Handshake done: heartbeats start and the packet frames flow.
    void open(TimePoint now);
    /// Ends the connection once: `on_closed` runs now, the socket closes after the farewell.
    void close(CloseReason reason, std::string detail, Farewell farewell, TimePoint now);
    /// Queues a frame built by the I/O thread (control frames); `front` puts it first.
    template <class Build>
    void send_control(Build&& build, bool front = false) {
        outbox_.push_control(std::forward<Build>(build), front);
    }
    const std::shared_ptr<ReceiveBudget>& budget() const { return budget_; }
    /// Brings the connect/handshake deadline forward to `t` (if later).
    void shorten_deadline(TimePoint t) { deadline_ = std::min(deadline_, t); }
    /// A close in progress will not be followed by a reconnect after all (`close()` while
    /// lingering): the outbox stops accepting.
    void cancel_reconnect() {
        reconnecting_ = false;
        outbox_.stop_accepting();
    }
    TcpStream* socket() const { return socket_.get(); }
    const ConnectionOptions& options() const { return options_; }

    /// The TCP connect finished (client: send the hello).
    virtual void on_tcp_connected(TimePoint now) = 0;
    /// A hello, welcome or reject during the handshake.
    virtual void on_handshake(const FrameView& frame, TimePoint now) = 0;
    /// A packet while open, checked: `packet` holds its channel, `body` its bytes (decoded by
    /// the thread that takes it: see detail/encoded.hpp); `bytes` is its decoded footprint.
    virtual void on_packet(Packet packet, Encoded body, std::size_t bytes) = 0;
    /// The frames read in one go have been handled, or a close begins: the packets pushed
    /// quietly become visible (one wake-up for all of them).
    virtual void on_frames_done() {}
    /// The connection ended (reported once, when the close begins).
    virtual void on_closed(CloseReason reason, const std::string& detail, TimePoint now) = 0;
    /// The socket is fully closed (phase back to idle).
    virtual void on_released(TimePoint) {}
    /// True when another connection will follow one closed for `reason` (a reconnecting
    /// client): the outbox then keeps accepting packets for the next connection. What was
    /// queued before the close goes with the old stream (after a goodbye, or dropped with a
    /// cut stream); only a connect that never got going keeps its queue. Asked once per close,
    /// before `on_closed`.
    virtual bool reconnects_after(CloseReason) const { return false; }
    /// The inbox this connection's packets wait in for the game.
    virtual Inbox& receiving() = 0;
    /// Reading is paused and the game's reads left it so: `text` says which channel's packets
    /// hold the queue (see detail/receive_pause.hpp). Report it to the game.
    virtual void on_stalled(const std::string& text) = 0;
    /// True when a goodbye's reason is reported as is (a client believes "kicked", "server
    /// shutdown" and "queue overflow"); otherwise it is reported as `closed_by_peer` with the
    /// reason in the detail.
    virtual bool trusts_goodbye(CloseReason) const { return false; }

private:
    TimePoint serve(TimePoint now);  // service() by phase
    void read(TimePoint now);
    void read_some(TimePoint now);
    // Handles the complete frames in the decoder; false once the connection stopped reading.
    bool process(TimePoint now);
    // `adopt`: the bytes that hold `frame` (header first), which a packet may take whole
    // instead of copying its body (a reassembled frame).
    void handle(const FrameView& frame, TimePoint now, Bytes* adopt = nullptr);
    // A piece of a big frame: collected until the frame is whole, then handled.
    void assemble(const FrameView& fragment, TimePoint now);
    // The assembly so far against its frame's header, `coming` more bytes of it on their way:
    // a bad one closes the connection (false); a whole one is handled.
    bool assembled(std::size_t coming, TimePoint now);
    // A big fragment partly read: the rest of its body is read straight into the assembly
    // buffer (`direct_`) instead of through the decoder's. False when it does not apply; true
    // when it took the fragment, also one found bad (the connection is then closing).
    bool divert(TimePoint now);
    // Reads the diverted fragment's next bytes; false when the socket has no more for now.
    bool read_direct(std::size_t& turn, TimePoint now);
    void flush(TimePoint now);
    // The socket ended or failed (a receive or send returned neither Done nor NotReady).
    void lost(sf::Socket::Status status, int error, TimePoint now);
    // The read side ended: `lost` now, or once the simulated network has delivered what it holds.
    void ended(sf::Socket::Status status, int error, TimePoint now);
    // Simulation: delay lines for a new socket; feeding the decoder what is due; next timer.
    void start_simulation(TimePoint now);
    void deliver(TimePoint now);
    // Moves from the outbox into sim_out_ what the simulated link could carry by now.
    void feed_simulation(TimePoint now);
    TimePoint simulation_due() const;
    void release(TimePoint now);
    void drop_stream();
    // Farewell::goodbye_only: what is queued is dropped, the goodbye goes in its place.
    void replace_queue(const Goodbye& goodbye);
    // Closes with queue_overflow if the outbox overflowed; true if it did.
    bool overflowed(TimePoint now);
    bool reading() const;
    bool sim_full() const;
    void measure_rtt(std::int64_t sample_us);
    void measure_rates(TimePoint now);  // the simulated network wants no more bytes read: stop reading

    ConnectionOptions options_;
    Outbox outbox_;
    std::shared_ptr<ReceiveBudget> budget_ = std::make_shared<ReceiveBudget>();
    ReceivePause pause_;  // when reading from the peer paused, and whether that was told
    std::unique_ptr<TcpStream> socket_;
    FrameDecoder decoder_;
    Bytes assembly_;  // a big frame's fragments so far (header included)
    std::size_t direct_ = 0;  // bytes of a diverted fragment still to read into assembly_
    TimePoint recheck_ = no_deadline;  // a held burst (Outbox::hold) is taken then at the latest
    bool drain_first_ = false;  // a piece of a big frame went out: take more once the socket drained
    Bytes writing_;            // taken from the outbox, being sent
    std::size_t written_ = 0;  // bytes of writing_ already sent
    std::size_t writing_cut_ = 0;  // bytes at the start of writing_ that finish a frame begun before it
    Phase phase_ = Phase::idle;
    bool write_shut_ = false;
    bool took_ = false;        // bytes were taken from the outbox for this socket
    bool heard_ = false;       // packets arrived in this read (Outbox::heard once it is done)
    bool reconnecting_ = false;  // the closing connection will be followed by another
    // The simulated network (options_.simulate), each way, for the current socket.
    std::optional<DelayLine> sim_out_;
    std::optional<DelayLine> sim_in_;
    Bytes staged_;  // taken from the outbox on its way into sim_out_
    TimePoint sim_more_at_ = no_deadline;  // the outbox waits for the simulated link until then
    // The peer's end (or a socket error) read while sim_in_ still held bytes: reported after them.
    bool peer_ended_ = false;
    sf::Socket::Status end_status_ = sf::Socket::Disconnected;
    int end_error_ = 0;
    TimePoint deadline_ = no_deadline;  // connect/handshake deadline, or end of linger
    TimePoint last_heard_{};
    TimePoint next_ping_ = no_deadline;
    std::atomic<std::int64_t> rtt_us_{0};
    std::atomic<std::int64_t> rtt_min_us_{0};
    std::atomic<std::int64_t> rtt_jitter_us_{0};
    ChannelCounters channels_;
    // Rates: the totals at the start of the current window, and the last window's results.
    TimePoint rates_since_{};
    std::array<std::uint64_t, 4> rates_base_{};  // packets sent, received; bytes sent, received
    std::array<std::atomic<double>, 4> rates_{};
    std::atomic<std::uint64_t> packets_sent_{0};
    std::atomic<std::uint64_t> packets_received_{0};
    std::atomic<std::uint64_t> bytes_sent_{0};
    std::atomic<std::uint64_t> bytes_received_{0};
    std::atomic<std::size_t> read_buffer_{0};  // decoder_.capacity(), readable from any thread
    std::array<std::uint64_t, 8> pings_{};  // stamps of the last pings sent
    std::size_t pings_sent_ = 0;
};

}  // namespace sprocket::detail

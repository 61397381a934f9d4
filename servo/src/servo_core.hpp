#pragma once
// The server side: listeners, the connection of each client (hello checks, welcome or reject),
// and the registry of welcomed clients that `Servo::send`/`sendall` use from any thread.

#include <sprocket/detail/callbacks.hpp>
#include <sprocket/detail/drain.hpp>
#include <sprocket/detail/connection.hpp>
#include <sprocket/detail/control.hpp>
#include <sprocket/detail/recorder.hpp>
#include <sprocket/servo.hpp>

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace sprocket::detail {

class ServoCore;

/// One client's connection on the server.
class ServerLink : public Connection, public std::enable_shared_from_this<ServerLink> {
public:
    ServerLink(std::shared_ptr<ServoCore> core, std::unique_ptr<TcpStream> socket, TimePoint now);
    bool finished() const override { return phase() == Phase::idle; }
    /// I/O thread: close with a goodbye carrying `reason` (kick, server shutdown).
    void end(CloseReason reason, const std::string& detail, TimePoint now) {
        close(reason, detail, Farewell::goodbye, now);
    }
    /// I/O thread: close at once, dropping what is queued (an evicted handshake).
    void drop(CloseReason reason, const std::string& detail, TimePoint now) { close(reason, detail, Farewell::drop, now); }
    /// Any thread (what it reads is set before the link is published, or atomic).
    ClientInfo info(ClientId id) const;
    TimePoint accepted_at() const { return accepted_at_; }

protected:
    void on_tcp_connected(TimePoint) override {}
    void on_handshake(const FrameView& frame, TimePoint now) override;
    void on_packet(Packet packet, Encoded body, std::size_t bytes) override;
    void on_frames_done() override;
    void on_closed(CloseReason reason, const std::string& detail, TimePoint now) override;
    Inbox& receiving() override;
    void on_stalled(const std::string& text) override { report(Event{EventKind::stalled, id_, {}, CloseReason::none, text}); }
    void on_released(TimePoint now) override;

private:
    void reject(RejectCode code, const std::string& text, TimePoint now);
    // Records the event (when recording) and queues it for the game.
    /// Records `event` if recording, then queues it (a packet with its `body`, quietly).
    void report(Event event, Encoded body = {}, std::size_t bytes = 0);

    std::shared_ptr<ServoCore> core_;
    ClientId id_ = 0;
    TimePoint accepted_at_;
    std::string address_;
    std::uint16_t port_ = 0;
};

/// A listening socket.
class Listener : public Pollable {
public:
    Listener(std::shared_ptr<ServoCore> core, std::unique_ptr<TcpAcceptor> acceptor);
    TimePoint service(TimePoint now) override;
    int descriptor() const override;
    short interest() const override { return readable; }
    void ready(short readiness, TimePoint now) override;
    bool finished() const override { return !acceptor_; }
    void stop() {
        closing_descriptor();
        acceptor_.reset();
    }

private:
    std::shared_ptr<ServoCore> core_;
    std::unique_ptr<TcpAcceptor> acceptor_;
    TimePoint resume_at_ = no_deadline;  // after accept failed (e.g. out of descriptors)
};

class ServoCore : public std::enable_shared_from_this<ServoCore> {
public:
    ServoCore(Reactor& reactor, const ServoOptions& options);

    /// Any thread: binds and listens now (throws std::runtime_error), served from then on.
    std::uint16_t listen(const std::string& host, std::uint16_t port);
    /// I/O thread: a new connection was accepted.
    void accept(std::unique_ptr<TcpStream> socket, TimePoint now);
    /// I/O thread: goodbye to everyone, stop listening.
    void shutdown(TimePoint now);
    /// I/O thread: kick a client; false if unknown.
    bool kick(ClientId client, const std::string& reason, TimePoint now);

    // Any thread.
    std::shared_ptr<ServerLink> find(ClientId client) const;
    std::vector<std::pair<ClientId, std::shared_ptr<ServerLink>>> links() const;
    /// The port of the first listener.
    std::uint16_t first_port() const;
    std::vector<ClientInfo> clients() const;
    /// Counts on the I/O thread (waits for it).
    ServoStats stats();
    std::vector<Refusal> take_refusals();

    // Used by ServerLink on the I/O thread.
    /// Checks a hello and registers the client. Returns its id, or 0 with `why` set.
    ClientId admit(const std::shared_ptr<ServerLink>& link, RejectCode& why);
    void left(ClientId client);
    void released(ServerLink* link);
    /// A connection closed before it joined.
    void refuse(Refusal refusal);

    const ServoOptions options;
    Reactor& reactor;
    Inbox inbox;
    Callbacks callbacks;
    LatestChannels latest;  // channels read with latest(): get() and poll() leave them
    /// Null when not recording (ConnectionOptions::record, $SPROCKET_RECORD).
    const std::unique_ptr<Recorder> recorder;

private:
    mutable std::mutex mutex_;
    std::map<ClientId, std::shared_ptr<ServerLink>> clients_;  // welcomed; guarded by mutex_
    ClientId next_id_ = 1;                                     // guarded by mutex_
    std::uint16_t first_port_ = 0;                             // guarded by mutex_
    std::vector<std::shared_ptr<Listener>> listeners_;         // guarded by mutex_
    std::deque<Refusal> refusals_;                             // guarded by mutex_; the newest
    std::uint64_t refused_total_ = 0;                          // guarded by mutex_
    std::uint64_t joined_total_ = 0;                           // guarded by mutex_
    ServoStats gone_;  // traffic of the connections fully closed (I/O thread)
    std::set<ServerLink*> pending_;  // I/O thread: accepted, not welcomed yet
    bool shut_down_ = false;         // I/O thread
};

}  // namespace sprocket::detail

#pragma once
// The client side of a connection: hello, welcome or reject, status, events, reconnects.
// Shared by a `Sprocket` (any thread) and the I/O thread, which owns it while it runs.

#include <sprocket/detail/callbacks.hpp>
#include <sprocket/detail/drain.hpp>
#include <sprocket/detail/connection.hpp>
#include <sprocket/detail/recorder.hpp>
#include <sprocket/sprocket.hpp>

#include <mutex>

namespace sprocket::detail {

class ClientCore : public Connection {
public:
    ClientCore(Reactor& reactor, const std::string& host, std::uint16_t port, const SprocketOptions& options);

    // I/O thread.
    void start(TimePoint now);
    /// Close for good with a goodbye (`close()` or the Sprocket's destructor).
    void shutdown(TimePoint now);
    TimePoint service(TimePoint now) override;
    bool finished() const override;

    // Any thread.
    Status status() const;
    ClientId id() const { return id_.load(); }
    /// True when no more packets can arrive (disconnected, no reconnect pending).
    bool over() const { return status().state == State::disconnected; }

    Inbox inbox;
    Callbacks callbacks;
    LatestChannels latest;  // channels read with latest(): get() and poll() leave them
    /// Null when not recording (ConnectionOptions::record, $SPROCKET_RECORD).
    const std::unique_ptr<Recorder> recorder;

protected:
    void on_tcp_connected(TimePoint now) override;
    void on_handshake(const FrameView& frame, TimePoint now) override;
    void on_packet(Packet packet, Encoded body, std::size_t bytes) override;
    void on_frames_done() override;
    void on_closed(CloseReason reason, const std::string& detail, TimePoint now) override;
    Inbox& receiving() override { return inbox; }
    void on_stalled(const std::string& text) override { report(Event{EventKind::stalled, id(), {}, CloseReason::none, text}); }
    bool reconnects_after(CloseReason reason) const override;
    bool trusts_goodbye(CloseReason reason) const override {
        return reason == CloseReason::kicked || reason == CloseReason::server_shutdown ||
               reason == CloseReason::queue_overflow;
    }

private:
    void set_status(State state, CloseReason reason, std::string detail);
    // Records the event (when recording) and queues it for the game.
    /// Records `event` if recording, then queues it (a packet with its `body`, quietly).
    void report(Event event, Encoded body = {}, std::size_t bytes = 0);
    void report_closed();  // status and event for a close by this side (once)

    SprocketOptions options_;
    std::string host_;
    sf::IpAddress address_;
    std::uint16_t port_;
    std::atomic<ClientId> id_{0};
    mutable std::mutex status_mutex_;
    Status status_;  // guarded by status_mutex_
    bool shut_down_ = false;
    bool silent_ = false;  // closed by the game while connecting: report nothing more
    bool started_ = false;
    TimePoint reconnect_at_ = no_deadline;
    int failures_ = 0;  // connection attempts in a row that did not reach "connected"
};

}  // namespace sprocket::detail

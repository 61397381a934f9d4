#pragma once
// Playing a recording (sprocket/recording.hpp) back over real connections: which records, when
// and to whom. Used by sprocket-replay and by the demo game's `replay` mode.
//
// A replay plays one part. Playing the recorded endpoint's own role sends again what it sent
// (a client recording into a server, a server recording to clients); playing the other role
// sends what it received (its peer's part: a client recording served to a client, a server
// recording's clients connecting to a server). Times are the recording's, from its first
// `joined` record: that moment is when the replay starts (a client replay: when it starts
// connecting; a server replay: when the first client joins). Records before it go at once.
#include <sprocket/recording.hpp>
#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sprocket::replay {

using Clock = std::chrono::steady_clock;

/// What a replay plays.
struct Script {
    RecordRole recorded = RecordRole::client;  ///< who made the recording
    RecordRole as = RecordRole::client;        ///< the part played
    /// The packets to send (kind `sent` or `received`, as recorded), and for a server
    /// recording the `joined`/`left` records that open and close its clients' connections.
    /// Records keep the recorded client id; from a client recording every packet goes on the
    /// replay's one connection (as client), or to every client (as server).
    std::vector<Record> records;
    std::size_t packets = 0;             ///< how many of `records` are packets
    std::chrono::microseconds origin{0};  ///< the recording's time that the replay's start plays
};

/// The script for playing `as` from `recording`.
Script make_script(const Recording& recording, RecordRole as);

/// When a record is due: `start + (at - origin) / speed`; speed 0 = all at once, in order.
class Pace {
public:
    Pace(double speed, std::chrono::microseconds origin) : speed_(speed), origin_(origin) {}
    void start(Clock::time_point at) { start_ = at; }
    bool started() const { return start_.has_value(); }
    /// Precondition: started().
    Clock::time_point due(std::chrono::microseconds at) const;

private:
    double speed_;
    std::chrono::microseconds origin_;
    std::optional<Clock::time_point> start_;
};

/// The server part: sends the script to the clients of a Servo. The Nth client to join the
/// replay stands for the Nth client that joined in the recording; packets recorded for a
/// client with no stand-in (not joined yet, or gone) are skipped. Packets to client 0, and every
/// packet of a client recording, go to every client (`sendall`). The clock starts when the first client joins.
class ServerReplay {
public:
    /// `max_send_queue`: the Servo's; the fast pace waits while a client's queue is half full.
    ServerReplay(Script script, double speed, std::size_t max_send_queue = ServoOptions{}.max_send_queue);
    /// Every event of the Servo goes through here (joins and leaves map the clients).
    void on_event(const Event& event, Clock::time_point now);
    /// Sends every packet due by `now`. Returns when the next one is due (Clock::time_point::max()
    /// before the first join and when done).
    Clock::time_point play(Servo& server, Clock::time_point now);
    bool done() const { return next_ == script_.records.size(); }
    bool started() const { return pace_.started(); }
    std::size_t sent() const { return sent_; }
    std::size_t skipped() const { return skipped_; }
    /// Called with each record as it is played (for printing).
    std::function<void(const Record&)> on_play;

private:
    bool backed_up(const Servo& server) const;

    Script script_;
    Pace pace_;
    std::size_t max_send_queue_;
    std::size_t next_ = 0;
    std::vector<ClientId> recorded_joins_;        // recorded client ids, in join order
    std::size_t joins_ = 0;                       // replay clients that joined so far
    std::map<ClientId, ClientId> stand_in_;       // recorded id -> replay client
    std::size_t sent_ = 0;
    std::size_t skipped_ = 0;
};

/// The client part: connects to a server and sends the script. A client recording plays on one
/// connection, opened at once; a server recording opens one connection per recorded client at
/// its `joined` record and closes it at its `left` record.
class ClientReplay {
public:
    ClientReplay(Script script, double speed, std::string host, std::uint16_t port, SprocketOptions options);
    /// Starts the clock (and the one connection of a client recording).
    void start(Clock::time_point now);
    /// Opens and closes connections and sends every packet due by `now`. Returns when to call
    /// again: the next record's time, or soon when a send queue is half full (the fast pace
    /// waits for the network instead of overflowing it); Clock::time_point::max() when done.
    Clock::time_point play(Clock::time_point now);
    bool done() const { return next_ == script_.records.size(); }
    /// Every connection's events since the last call (packets the server sent are dropped
    /// here unless the caller looks at them), with the recorded client id of the connection.
    std::vector<std::pair<ClientId, Event>> poll();
    /// Waits until `until` or until a connection has something to poll.
    void wait_until(Clock::time_point until);
    /// Why the replay cannot go on: a connection that failed or was closed by the server.
    std::optional<std::string> failure() const;
    /// Bytes still queued on every open connection.
    std::size_t queued() const;
    /// Closes every connection (each says goodbye after what is queued).
    void close();
    std::size_t sent() const { return sent_; }
    std::size_t skipped() const { return skipped_; }
    std::function<void(const Record&)> on_play;

private:
    void open(ClientId recorded);

    Script script_;
    Pace pace_;
    std::string host_;
    std::uint16_t port_;
    SprocketOptions options_;
    std::size_t next_ = 0;
    std::map<ClientId, Sprocket> lanes_;  // recorded client id -> its connection
    std::size_t sent_ = 0;
    std::size_t skipped_ = 0;
};

}  // namespace sprocket::replay

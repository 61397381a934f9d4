#pragma once
/// \file
/// `Sprocket`: a client that connects to a `Servo` in the background and never blocks the game.

#include <sprocket/event.hpp>
#include <sprocket/options.hpp>
#include <sprocket/packet.hpp>
#include <sprocket/recording.hpp>
#include <sprocket/stats.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sprocket {

namespace detail {
class ClientCore;
class Reactor;
}

/// Client settings: the shared connection settings plus automatic reconnection.
struct SprocketOptions : ConnectionOptions {
    /// A client accepts packets of up to 256 MiB from its server (see `max_frame_size`).
    SprocketOptions() { max_frame_size = std::size_t{256} << 20; }
    /// Reconnect after a connection is lost (not after `close()`, a kick or a rejection).
    bool reconnect = false;
    /// First delay before reconnecting; doubles after each failed attempt up to the maximum.
    Millis reconnect_delay{250};
    Millis reconnect_max_delay{5000};
    /// Give up after this many attempts in a row (0 = never give up).
    int reconnect_attempts = 0;
};

/// Where a connection stands.
enum class State : std::uint8_t {
    connecting,    ///< TCP connect and handshake in progress (also between reconnect attempts)
    connected,     ///< welcomed by the server
    disconnected,  ///< for good: see `Status::reason`
};
const char* to_string(State state) noexcept;
std::ostream& operator<<(std::ostream& os, State state);

/// A snapshot of where a connection stands, as a value: its state and, once it is
/// disconnected (or while it retries), why.
struct Status {
    State state = State::connecting;
    CloseReason reason = CloseReason::none;  ///< why it is disconnected (or why the last try failed)
    std::string detail;                      ///< e.g. "wrong password", "connection refused"
    /// While reading from the server is paused by packets of a channel the game does not read:
    /// what the `stalled` event said ("receive queue full: 4812 packet(s) ... on channel
    /// \"fx\" ..."). Empty otherwise.
    std::string stalled;
};
std::ostream& operator<<(std::ostream& os, const Status& status);

/// A client. Connects in the background; every method returns at once (except `wait` and
/// `get(timeout)`, which wait at most their timeout) and can be called from any thread.
///
/// Connection problems never throw: they show up as `disconnected` events and in `status()`.
/// Exceptions are only for programming errors, and are documented on each method; any method
/// of a moved-from Sprocket throws std::logic_error.
class Sprocket {
public:
    /// Starts connecting to `host:port` (a numeric address or a name; a name is resolved here,
    /// on the calling thread). Packets sent before the connection is up are queued and go out
    /// right behind the hello, before the welcome (checked against 1 MiB until the server says
    /// its own limit). Throws std::invalid_argument for unusable options (an
    /// application name or password over 255 bytes, `timeout` <= `heartbeat_interval`, ...),
    /// and std::system_error when `options.record` (or $SPROCKET_RECORD) names a file that
    /// cannot be created.
    Sprocket(const std::string& host, std::uint16_t port, SprocketOptions options = {});
    /// Says goodbye (`CloseReason::closed`) after what is queued, then closes. Returns at once;
    /// the bytes leave in the background (at most `linger`). If it is still connecting, the
    /// handshake may finish within `linger`, so "send, then destroy" still delivers. When
    /// recording, it first waits the moment the I/O thread takes to record the close, then
    /// writes the recording's buffer to the file.
    ~Sprocket();
    Sprocket(Sprocket&&) noexcept;
    Sprocket& operator=(Sprocket&&) noexcept;
    Sprocket(const Sprocket&) = delete;
    Sprocket& operator=(const Sprocket&) = delete;

    /// Queues a packet for the server; the packet is encoded here, on the calling thread. On a
    /// quiet connection it leaves at once (written from this thread); a stream of sends is
    /// gathered into bigger writes, holding a packet back by at most 50 microseconds.
    /// Returns false, and sends nothing, when the connection is closed for good or the send
    /// queue is full (which also closes the connection with `queue_overflow`).
    /// Throws std::length_error, sending nothing, when the encoded packet is bigger than the
    /// server accepts (its `max_frame_size`, said in its welcome; 1 MiB assumed before it), or
    /// when it is over `max_send_queue` while another packet over it is not sent yet (one such
    /// packet at a time); the connection stays open.
    bool send(const Packet& packet);
    /// The same for a packet you are done with: `send(std::move(level))`. Strings and bytes of
    /// 64 KiB or more are then not copied: they go out from where they are, and the packet's
    /// map is left empty (its channel stays). Smaller packets are sent as above, untouched.
    bool send(Packet&& packet);
    /// `send({{"x", 1}, {"y", 2}})`: encoded from the literal as it is, without making a
    /// Packet (the same bytes as `send(Packet(fields))`, in less time).
    bool send(std::initializer_list<Map::Field> fields);

    /// Every packet received since the last call, oldest first, except those of channels read
    /// with `latest()` (from its first call on, they wait for `latest`). Never blocks.
    /// Connection events on the way run their callbacks (see `on`).
    std::vector<Packet> get();
    /// Only the packets of one channel; the other channels stay queued.
    std::vector<Packet> get(std::string_view channel);
    /// Waits up to `timeout` until a packet has arrived (or the connection is closed for good),
    /// then returns like `get()`. For scripts and tests; a game loop uses `get()`.
    std::vector<Packet> get(Millis timeout);
    /// The newest packet of `channel`; older ones of that channel are dropped. Empty when none
    /// arrived since the last call. From the first call on, `get()`, `get(timeout)` and `poll()`
    /// leave this channel's packets to it. A channel the game never reads fills the receive
    /// queue: an `EventKind::stalled` event (run by this call too), `status().stalled` and
    /// `stats().stalled_channel` then name it.
    std::optional<Packet> latest(std::string_view channel);
    /// `get(100)`, `get(0)`, `latest(0)`, `wait(100)`: do not compile, with a message that says
    /// to write `get(100ms)` (a timeout) or `get("chat")` (a channel). A bare number could mean
    /// milliseconds or seconds, and a literal 0 would otherwise be taken as a null channel name.
    template <class N, std::enable_if_t<detail::is_bare_number<N>, int> = 0>
    std::vector<Packet> get(N) { detail::refuse_bare_number<N>(); return {}; }
    template <class N, std::enable_if_t<detail::is_bare_number<N>, int> = 0>
    std::optional<Packet> latest(N) { detail::refuse_bare_number<N>(); return {}; }
    template <class N, std::enable_if_t<detail::is_bare_number<N>, int> = 0>
    bool wait(N) { detail::refuse_bare_number<N>(); return false; }
    template <class N, std::enable_if_t<detail::is_bare_number<N>, int> = 0>
    bool wait_connected(N) { detail::refuse_bare_number<N>(); return false; }
    /// Everything since the last call — packets and connection events — in order (but the
    /// packets of channels read with `latest()`).
    std::vector<Event> poll();
    /// Waits up to `timeout` until something (a packet or an event) is ready. True if so.
    bool wait(Millis timeout);
    /// Waits up to `timeout` until the handshake is done. True when connected; false when it
    /// failed for good (see `status()`) or is still connecting — with `reconnect` on, it keeps
    /// trying until the timeout. Events are left for get()/poll().
    bool wait_connected(Millis timeout);

    /// Calls `callback` for every event of `kind` (connected, disconnected, reconnecting, stalled) on
    /// the thread that calls get()/poll(), never on the I/O thread. Replaces an earlier one.
    /// Throws std::invalid_argument for `EventKind::packet` and the server-side kinds.
    void on(EventKind kind, std::function<void(const Event&)> callback);

    /// Where the connection stands now (live, not as of the last get()).
    Status status() const;
    bool connected() const { return status().state == State::connected; }
    /// Our id on the server; 0 until welcomed.
    ClientId id() const;
    /// Smoothed round-trip time measured by heartbeats; zero until the first one returns.
    std::chrono::microseconds rtt() const;
    /// Packets and bytes moved so far, the RTT and the send queue: a cheap snapshot (see Stats).
    Stats stats() const;
    /// The file this endpoint records to (empty path when it does not), how many records it
    /// wrote, and why recording stopped if a write failed. See ConnectionOptions::record.
    /// Records: each packet `send` accepted (`sent`, stamped when queued), each packet
    /// received (`received`, stamped when the I/O thread decoded it, before `get()` takes it),
    /// each welcome (`joined`) and each disconnection (`left`).
    RecordingStatus recording() const;

    /// Says goodbye and closes now; no reconnect. Later sends return false; the status is
    /// `disconnected` (`closed`) when it returns. Packets queued before still go out, even
    /// when it was still connecting (within `linger`).
    void close();

private:
    detail::ClientCore& core() const;  // throws std::logic_error after a move
    bool push(const Packet& packet, Packet* movable);  // send; moves from `movable` (the packet) when given

    std::shared_ptr<detail::Reactor> reactor_;  // declared first: released last
    std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace sprocket

/// \code
/// sprocket::Sprocket client("127.0.0.1", 4242);
/// while (running) {
///     for (sprocket::Packet& p : client.get()) world.apply(p);
///     client.send({{"x", player.x}, {"y", player.y}});
/// }
/// \endcode

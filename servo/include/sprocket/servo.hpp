#pragma once
/// \file
/// `Servo`: a server that accepts many Sprockets, on the same background I/O thread.

#include <sprocket/event.hpp>
#include <sprocket/options.hpp>
#include <sprocket/packet.hpp>
#include <sprocket/recording.hpp>
#include <sprocket/stats.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sprocket {

namespace detail {
class ServoCore;
class Reactor;
}

/// Server settings: the shared connection settings plus where to listen and how many clients.
struct ServoOptions : ConnectionOptions {
    /// The address to listen on. The default accepts only this machine; "0.0.0.0" exposes the
    /// server to every network interface (say so on purpose).
    std::string host = "127.0.0.1";
    /// Clients beyond this are rejected with "server full".
    std::size_t max_clients = 64;
    /// Connections that have not finished their handshake. One more evicts the oldest of them
    /// (reported by `refused()`), so silent connections cannot lock real clients out.
    std::size_t max_pending = 64;
};

/// A connected client, as `Servo::clients()` lists it.
struct ClientInfo {
    ClientId id = 0;
    std::string address;  ///< "127.0.0.1"
    std::uint16_t port = 0;
    std::chrono::microseconds rtt{0};  ///< smoothed heartbeat round trip; 0 until measured
    Stats stats;                       ///< what this connection moved so far (see Stats)
};

/// A connection closed before it joined, as `Servo::refused()` reports it.
struct Refusal {
    std::string address;  ///< "127.0.0.1"
    std::uint16_t port = 0;
    CloseReason reason = CloseReason::none;  ///< rejected, protocol_error, timeout, closed_by_peer, ...
    std::string detail;  ///< "wrong password", "bad hello: not a sprocket client", "no handshake within 5000 ms", ...
};

/// The whole server at a glance, from `Servo::stats()`.
struct ServoStats {
    std::size_t clients = 0;    ///< welcomed and connected now
    std::size_t pending = 0;    ///< connected now, handshake not finished
    std::uint64_t joined = 0;   ///< clients welcomed since the start
    std::uint64_t refused = 0;  ///< connections closed before they joined, since the start
    /// Memory held for connections now: send queues, partial frames being read, and received
    /// packets waiting for `get()`. Bounded by the options: about
    /// (max_clients + max_pending) × (max_send_queue + max_frame_size + max_receive_queue).
    std::size_t buffered = 0;
    /// Traffic of every connection since the start (a closing one is added once it is fully
    /// closed), heartbeats and handshakes included in the bytes.
    std::uint64_t packets_sent = 0;
    std::uint64_t packets_received = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    /// The clients' rates summed (see `Stats`: over the last second or so).
    double packets_sent_per_second = 0;
    double packets_received_per_second = 0;
    double bytes_sent_per_second = 0;
    double bytes_received_per_second = 0;
};

/// A packet and who sent it.
struct Message {
    ClientId client = 0;
    Packet packet;
};

/// A server. Listens at construction; every method returns at once (except `wait` and
/// `get(timeout)`) and can be called from any thread (events stay in order when one thread
/// drains them). Any method of a moved-from Servo throws std::logic_error.
class Servo {
public:
    /// Listens on `options.host:port`; port 0 lets the OS pick (see `port()`).
    /// Throws std::runtime_error when it cannot listen, e.g.
    /// `servo: cannot listen on 127.0.0.1:4242 (address already in use)`; std::invalid_argument
    /// for unusable options (see `Sprocket`); std::system_error when `options.record` (or
    /// $SPROCKET_RECORD) names a file that cannot be created.
    explicit Servo(std::uint16_t port = 0, ServoOptions options = {});
    /// Says goodbye (`server_shutdown`) to every client and stops listening; returns once the
    /// I/O thread has done so (a moment). Queued bytes leave in the background for at most
    /// `linger`. A recording is complete on disk when it returns (every client's `left` included).
    ~Servo();
    Servo(Servo&&) noexcept;
    Servo& operator=(Servo&&) noexcept;
    Servo(const Servo&) = delete;
    Servo& operator=(const Servo&) = delete;

    /// The port of the first address listened on.
    std::uint16_t port() const;
    /// Listens on another address too: clients that connect there join this same server.
    /// Returns the port (useful with 0). Throws std::runtime_error like the constructor.
    std::uint16_t add_addr(const std::string& host, std::uint16_t port);

    /// Every packet received since the last call, oldest first, with its sender, except those of
    /// channels read with `latest()` (from its first call on, they wait for it). Never blocks.
    /// Joins and leaves on the way run their callbacks (see `on`).
    std::vector<Message> get();
    /// Only the packets of one channel; the other channels stay queued.
    std::vector<Message> get(std::string_view channel);
    /// Waits up to `timeout` until a packet has arrived, then returns like `get()`.
    std::vector<Message> get(Millis timeout);
    /// The newest packet of `channel` from each client that sent one; older ones are dropped.
    /// From the first call on, `get()` and `poll()` leave this channel's packets to it. A client
    /// whose unread channel fills the receive queue is named by an `EventKind::stalled` event
    /// (run by this call too) and in its `clients()` stats.
    std::vector<Message> latest(std::string_view channel);
    /// `get(100)`, `get(0)`, `latest(0)`, `wait(100)`: do not compile, with a message that says
    /// to write `get(100ms)` (a timeout) or `get("chat")` (a channel). A bare number could mean
    /// milliseconds or seconds, and a literal 0 would otherwise be taken as a null channel name.
    template <class N, std::enable_if_t<detail::is_bare_number<N>, int> = 0>
    std::vector<Message> get(N) { detail::refuse_bare_number<N>(); return {}; }
    template <class N, std::enable_if_t<detail::is_bare_number<N>, int> = 0>
    std::vector<Message> latest(N) { detail::refuse_bare_number<N>(); return {}; }
    template <class N, std::enable_if_t<detail::is_bare_number<N>, int> = 0>
    bool wait(N) { detail::refuse_bare_number<N>(); return false; }
    /// Everything since the last call — joins, packets, leaves — in order.
    std::vector<Event> poll();
    /// Waits up to `timeout` until something is ready. True if so.
    bool wait(Millis timeout);
    /// Calls `callback` for each `joined`, `left` or `stalled` event on the thread that calls get()/poll().
    /// Throws std::invalid_argument for the other kinds.
    void on(EventKind kind, std::function<void(const Event&)> callback);

    /// Sends to one client; the packet is encoded on the calling thread. As with
    /// `Sprocket::send`, a stream of sends to one client is gathered into bigger writes,
    /// holding a packet back by at most 50 microseconds. False when there is
    /// no such client (any more), its send queue overflowed (it is then disconnected), or the
    /// packet is bigger than that client accepts (its `max_frame_size`, said in its hello:
    /// nothing a client says makes this throw; the connection stays open). Throws
    /// std::length_error when the packet is over `max_send_queue` while another packet over it
    /// is not sent to that client yet (one such packet at a time).
    bool send(ClientId client, const Packet& packet);
    /// The same for a packet you are done with: big strings and bytes are not copied (see
    /// `Sprocket::send(Packet&&)`).
    bool send(ClientId client, Packet&& packet);
    /// `send(client, {{"x", 1}, {"y", 2}})`: encoded from the literal as it is, without making
    /// a Packet (see `Sprocket::send(std::initializer_list<Map::Field>)`).
    bool send(ClientId client, std::initializer_list<Map::Field> fields);
    /// Sends to every client. The packet is encoded once; a big one (over 64 KiB) is shared by
    /// every client's queue, not copied per client. Returns how many it was queued for: not the
    /// clients whose queue overflowed (they are disconnected), nor those that accept less than
    /// its size (their `max_frame_size`, said in their hello). Throws std::length_error, queuing
    /// it for nobody, when it is over `max_send_queue` while another packet over it is not sent
    /// yet to one of them (one such packet at a time per client).
    std::size_t sendall(const Packet& packet);
    /// The same for a packet you are done with: `sendall(std::move(level))`. Its strings and
    /// bytes of 64 KiB or more are not even copied once: every client's queue reads them from
    /// the packet, whose values move into the shared frame (the packet is left empty).
    std::size_t sendall(Packet&& packet);
    /// Sends to every client except one (e.g. the sender of what is relayed).
    std::size_t sendall_except(ClientId except, const Packet& packet);
    std::size_t sendall(std::initializer_list<Map::Field> fields) { return sendall(Packet(fields)); }

    /// The clients that completed the handshake and have not left, by id.
    std::vector<ClientInfo> clients() const;
    /// Counters and the memory held for connections. Waits briefly for the I/O thread to count.
    ServoStats stats() const;
    /// The file this server records to (empty path when it does not), how many records it
    /// wrote, and why recording stopped if a write failed. See ConnectionOptions::record.
    /// Records: each `send` (`sent` to that client), each `sendall` (one `sent` to client 0:
    /// every client), each `sendall_except` (one `sent` per client it was queued for) — when
    /// accepted, stamped when queued; each packet received (`received`, stamped when the I/O
    /// thread decoded it, before `get()` takes it); each `joined` (with the client's address)
    /// and `left` (with the reason). Connections that never joined are not recorded.
    RecordingStatus recording() const;
    /// The connections closed before they joined since the last call, oldest first: bad
    /// handshakes, wrong passwords, bytes that are not sprocket's, silence past
    /// `handshake_timeout`, evictions when `max_pending` is reached. Keeps the newest 256;
    /// `stats().refused` counts them all. For logs: no password or packet content is in them.
    std::vector<Refusal> refused();
    /// Says goodbye with `CloseReason::kicked` and `reason`, and disconnects (on the I/O thread,
    /// soon). True when the kick was queued; false when there is no such client. A client that
    /// leaves on its own at that moment is reported as it left (`closed by peer`).
    bool kick(ClientId client, std::string reason = {});

private:
    detail::ServoCore& core() const;  // throws std::logic_error after a move
    bool push(ClientId client, const Packet& packet, Packet* movable);  // send; moves from `movable` when given
    std::size_t share(ClientId except, const Packet& packet, Packet* movable);  // sendall(_except)

    std::shared_ptr<detail::Reactor> reactor_;  // declared first: released last
    std::shared_ptr<detail::ServoCore> core_;
};

}  // namespace sprocket

/// \code
/// sprocket::Servo server(4242);
/// while (running) {
///     for (sprocket::Message& m : server.get()) players[m.client].apply(m.packet);
///     server.sendall(world.state());
/// }
/// \endcode

// bench_throughput: how many reference state packets one client can push to a server, counted
// where the server's game loop takes them (its get()), next to raw TCP, sf::Packet and ENet.
//
//   bench_throughput [--quick] [--out DIR]
//
// A source process sends packets as fast as its transport takes them for 3 s (--quick: 0.3 s),
// each with a sequence number in "id", then an end marker (id -1). A sink process checks that the
// numbers arrive complete and in order, and counts packets per second between the first and the
// last one it took. One packet per send everywhere:
//   sprocket      client.send({{"id", id}, {"name", ...}, ...}) per packet, the literal as a game
//                 writes it (encoded as it is, no Packet made); the source waits while more than 1 MiB is
//                 queued (Sprocket::stats().send_queue), as a sender that must not overflow does;
//                 the sink's loop is `for (auto& m : server.get(1s)) ...`
//   sprocket, bytes state   the same, with the state as one bytes value (the raw 32-byte struct)
//                 next to "id": what the 7-key map costs, separated from the transport
//   raw TCP       one send(2) per packet (a 4-byte length, then the 32-byte struct)
//   raw TCP, 64 KiB writes   the same messages, gathered into 64 KiB writes: the floor
//   sf::Packet    sf::TcpSocket::send(packet) per packet, blocking
//   ENet          enet_peer_send reliable per packet; the source services the host every 64
//                 packets and waits while more than 8192 packets are unacknowledged
//
// Roles:
//   bench_throughput sink TRANSPORT                 "port N", then "count", "errors", "first_ns", "last_ns"
//   bench_throughput source TRANSPORT PORT SECONDS   "sent N"
// Both then wait for "stop" on standard input.

#include "common.hpp"
#include "net.hpp"
#include "state.hpp"

#include <sprocket/codec.hpp>
#include <sprocket/frame.hpp>
#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <SFML/Network/TcpListener.hpp>
#include <SFML/Network/TcpSocket.hpp>

namespace {

using namespace bench;

const std::vector<std::string> transports{"sprocket", "sprocket, bytes state", "raw TCP", "raw TCP, 64 KiB writes", "sf::Packet", "ENet"};

/// What a sink saw: packets in order, and when the first and the last were taken.
struct Count {
    std::int64_t expected = 0, count = 0, errors = 0, first = 0, last = 0;
    bool done = false;
    void take(std::int64_t id, std::int64_t now) {
        if (id < 0) {
            done = true;
            return;
        }
        if (count == 0) first = now;
        last = now;
        if (id != expected) ++errors;  // lost or reordered
        expected = id + 1;
        ++count;
    }
    void report_all() const {
        report("errors", errors);
        report("first_ns", first);
        report("last_ns", last);
        report("count", count);
    }
};

/// Waits for the parent's "stop" (or its exit), running `service` meanwhile.
template <class Service>
void until_stop(Service&& service) {
    for (const std::int64_t give_up = now_ns() + 300'000'000'000; now_ns() < give_up;) {
        if (parent_line(0ms)) return;
        service();
    }
}
void until_stop() {
    parent_line(300s);
}

// --- sinks ----------------------------------------------------------------------------------------

int sink_sprocket() {  // either shape: the sequence number is in "id"
    sprocket::Servo server(0);
    report("port", server.port());
    Count c;
    for (const std::int64_t give_up = now_ns() + 120'000'000'000; !c.done && now_ns() < give_up;) {
        const auto messages = server.get(1s);
        const std::int64_t now = now_ns();
        for (const sprocket::Message& m : messages) c.take(m.packet.get<std::int64_t>("id"), now);
    }
    c.report_all();
    until_stop();
    return 0;
}

int sink_raw() {
    const int listener = tcp_listen_reported();
    const int fd = tcp_accept(listener);
    MessageReader reader;
    Count c;
    const std::uint8_t* body = nullptr;
    std::uint32_t size = 0;
    while (!c.done && reader.receive(fd, body, size)) c.take(read_raw(body).id, now_ns());
    c.report_all();
    until_stop();
    ::close(fd);
    ::close(listener);
    return 0;
}

int sink_sfml() {
    sf::TcpListener listener;
    sf::TcpSocket socket;
    sf_accept_reported(listener, socket);
    Count c;
    sf::Packet in;
    while (!c.done && socket.receive(in) == sf::Socket::Done) {
        PlayerState s;
        in >> s;
        c.take(s.id, now_ns());
    }
    c.report_all();
    until_stop();
    return 0;
}

int sink_enet() {
#ifdef SPROCKET_BENCH_ENET
    EnetLibrary library;
    ENetHost* host = enet_listen_reported(4);
    Count c;
    ENetEvent event;
    for (const std::int64_t give_up = now_ns() + 120'000'000'000; !c.done && now_ns() < give_up;) {
        if (enet_host_service(host, &event, 100) <= 0) continue;
        if (event.type != ENET_EVENT_TYPE_RECEIVE) continue;
        c.take(read_raw(event.packet->data).id, now_ns());
        enet_packet_destroy(event.packet);
    }
    c.report_all();
    until_stop([&] { enet_host_service(host, &event, 10); });
    enet_host_destroy(host);
    return 0;
#else
    throw std::runtime_error("ENet: not installed");
#endif
}

// --- sources ----------------------------------------------------------------------------------------

/// Calls `send(id)` for ids 0, 1, 2, ... in batches of 64 for `seconds`, and `after_batch()`
/// after each batch; returns how many were sent.
template <class Send, class AfterBatch>
std::int32_t send_for(double seconds, Send&& send, AfterBatch&& after_batch) {
    std::int32_t seq = 0;
    const std::int64_t end = now_ns() + static_cast<std::int64_t>(seconds * 1e9);
    while (now_ns() < end) {
        for (int k = 0; k < 64; ++k) send(seq++);
        after_batch();
    }
    return seq;
}

/// The state as sprocket carries it: the 7-key map, or (`raw`) "id" and the raw struct as bytes.
// The state as a literal (`send({{"id", ...}, ...})`, as a game writes it), or as its raw
// 32 bytes next to "id".
bool send_state(sprocket::Sprocket& client, const PlayerState& s, bool raw) {
    if (!raw) return with_fields(s, [&](std::initializer_list<sprocket::Map::Field> fields) { return client.send(fields); });
    sprocket::Bytes bytes(raw_state_size);
    write_raw(s, bytes.data());
    return client.send({{"id", s.id}, {"s", std::move(bytes)}});
}

int source_sprocket(std::uint16_t port, double seconds, bool raw) {
    sprocket::SprocketOptions options;
    options.linger = 30s;  // everything queued must arrive, even on a busy machine
    sprocket::Sprocket client("127.0.0.1", port, options);
    check(client.wait_connected(5s), "sprocket: not connected");
    PlayerState s;
    const std::int32_t seq = send_for(
        seconds,
        [&](std::int32_t id) {
            s.id = id;
            check(send_state(client, s, raw), "sprocket: send refused");
        },
        [&] {
            // A sender that must not overflow its queue: the bench's pacing, not a test's wait.
            while (client.stats().send_queue > (std::size_t{1} << 20)) std::this_thread::sleep_for(50us);
        });
    s.id = -1;
    send_state(client, s, raw);
    report("sent", seq);
    until_stop();
    return 0;
}

int source_raw(std::uint16_t port, double seconds, bool gather) {
    const int fd = tcp_connect(port);
    check(fd >= 0, "raw TCP: cannot connect");
    PlayerState s;
    std::vector<std::uint8_t> out;
    std::uint8_t raw[raw_state_size];
    const std::size_t batch = gather ? std::size_t{64} << 10 : 1;
    const std::int32_t seq = send_for(
        seconds,
        [&](std::int32_t id) {
            s.id = id;
            write_raw(s, raw);
            append_message(out, raw, raw_state_size);
            if (out.size() >= batch) {
                check(write_all(fd, out.data(), out.size()), "raw TCP: send failed");
                out.clear();
            }
        },
        [] {});
    s.id = -1;
    write_raw(s, raw);
    append_message(out, raw, raw_state_size);
    check(write_all(fd, out.data(), out.size()), "raw TCP: send failed");
    report("sent", seq);
    until_stop();
    ::close(fd);
    return 0;
}

int source_sfml(std::uint16_t port, double seconds) {
    sf::TcpSocket socket;
    check(socket.connect(sf::IpAddress("127.0.0.1"), port, sf::seconds(5)) == sf::Socket::Done, "sf: cannot connect");
    PlayerState s;
    const std::int32_t seq = send_for(
        seconds,
        [&](std::int32_t id) {
            s.id = id;
            sf::Packet p;
            p << s;
            check(socket.send(p) == sf::Socket::Done, "sf: send failed");
        },
        [] {});
    s.id = -1;
    sf::Packet p;
    p << s;
    socket.send(p);
    report("sent", seq);
    until_stop();
    return 0;
}

#ifdef SPROCKET_BENCH_ENET
std::int64_t enet_freed = 0;  // reliable packets acknowledged (ENet frees them then)
void count_freed(ENetPacket*) { ++enet_freed; }
#endif

int source_enet([[maybe_unused]] std::uint16_t port, [[maybe_unused]] double seconds) {
#ifdef SPROCKET_BENCH_ENET
    EnetLibrary library;
    ENetPeer* peer = nullptr;
    ENetHost* host = enet_client(port, peer);
    check(host && peer && enet_wait_connected(host, 5000), "ENet: not connected");
    PlayerState s;
    std::int64_t created = 0;
    std::uint8_t raw[raw_state_size];
    ENetEvent event;
    auto send = [&] {
        write_raw(s, raw);
        ENetPacket* packet = reliable(raw, raw_state_size);
        packet->freeCallback = count_freed;
        check(enet_peer_send(peer, 0, packet) == 0, "ENet: send failed");
        ++created;
    };
    const std::int32_t seq = send_for(
        seconds,
        [&](std::int32_t id) {
            s.id = id;
            send();
        },
        [&] {
            enet_host_service(host, &event, 0);
            while (created - enet_freed > 8192) enet_host_service(host, &event, 1);
        });
    s.id = -1;
    send();
    enet_host_flush(host);
    report("sent", seq);
    until_stop([&] { enet_host_service(host, &event, 10); });
    enet_peer_disconnect_now(peer, 0);
    enet_host_destroy(host);
    return 0;
#else
    throw std::runtime_error("ENet: not installed");
#endif
}

int sink(const std::string& t) {
    if (t == "sprocket" || t == "sprocket, bytes state") return sink_sprocket();
    if (t == "raw TCP" || t == "raw TCP, 64 KiB writes") return sink_raw();
    if (t == "sf::Packet") return sink_sfml();
    return sink_enet();
}

int source(const std::string& t, std::uint16_t port, double seconds) {
    if (t == "sprocket") return source_sprocket(port, seconds, false);
    if (t == "sprocket, bytes state") return source_sprocket(port, seconds, true);
    if (t == "raw TCP") return source_raw(port, seconds, false);
    if (t == "raw TCP, 64 KiB writes") return source_raw(port, seconds, true);
    if (t == "sf::Packet") return source_sfml(port, seconds);
    return source_enet(port, seconds);
}

// --- the benchmark ----------------------------------------------------------------------------------

struct Outcome {
    Cell rate, errors;
};

int failures = 0;

Outcome measure(const std::string& transport, double seconds) {
    if (transport == "ENet" && !have_enet) return {Cell::none("not installed"), Cell::none("not installed")};
    try {
        Child sink({"sink", transport});
        const std::string port = sink.expect("port", 10s);
        Child source({"source", transport, port, fixed(seconds, 3)});
        const double count = sink.number("count", Millis(static_cast<long>(seconds * 1000) + 120'000));
        const double sent = source.number("sent", 10s);
        const double errors = sink.number("errors", 1s);
        const double span = (sink.number("last_ns", 1s) - sink.number("first_ns", 1s)) / 1e9;
        sink.tell("stop");
        source.tell("stop");
        source.wait(10s);
        sink.wait(10s);
        const double lost = sent - count + errors;
        if (lost != 0) ++failures;
        return {span > 0 ? Cell::of(count / span) : Cell::none("no time"), Cell::of(lost)};
    } catch (const std::exception& e) {
        std::cerr << "bench_throughput: " << transport << ": " << e.what() << '\n';
        ++failures;
        return {Cell::none("failed"), Cell::none("failed")};
    }
}

int run(const Options& options) {
    const double seconds = options.quick ? 0.3 : 3.0;
    // One packet per send is at the mercy of the scheduler (who shares a core with whom), so each
    // transport runs in 3 rounds, interleaved, and the median round is the result.
    const int rounds = options.quick ? 1 : 3;
    Table table;
    table.title = "One-way throughput of the 7-key state packet, one packet per send, counted by the server's receive loop (" +
                  fixed(seconds, 1) + " s, median of " + std::to_string(rounds) + " rounds)";
    table.columns = transports;
    std::map<std::string, std::vector<double>> runs;
    std::map<std::string, Cell> lost_by;
    for (int round = 0; round < rounds; ++round) {
        for (const std::string& t : transports) {
            std::cerr << "bench_throughput: " << t << ", round " << round + 1 << "...\n";
            const Outcome o = measure(t, seconds);
            if (o.rate.value) runs[t].push_back(*o.rate.value);
            Cell& l = lost_by[t];
            if (!o.errors.value) l = o.errors;
            else if (l.text.empty()) l = Cell::of(l.value.value_or(0) + *o.errors.value);
        }
    }
    std::vector<Cell> rates, lowest, highest, lost;
    std::vector<std::vector<std::string>> tsv{{"transport", "packets_per_second"}};
    for (const std::string& t : transports) {
        std::vector<double>& r = runs[t];
        std::sort(r.begin(), r.end());
        const Cell why = lost_by[t].value ? Cell::none("failed") : lost_by[t];
        rates.push_back(r.empty() ? why : Cell::of(r[r.size() / 2]));
        lowest.push_back(r.empty() ? why : Cell::of(r.front()));
        highest.push_back(r.empty() ? why : Cell::of(r.back()));
        lost.push_back(lost_by[t]);
        if (!r.empty() && t != "sprocket, bytes state") tsv.push_back({t, fixed(r[r.size() / 2], 0)});  // the chart: 7-key packets
    }
    table.add("packets per second", rates);
    if (rounds > 1) {
        table.add("slowest round", lowest);
        table.add("fastest round", highest);
    }
    table.add("lost or out of order", lost);
    sprocket::Packet reference = to_packet(PlayerState{});
    table.notes = {
        "ratio = sprocket / that column (below 1: sprocket moves fewer packets).",
        "bytes per packet on the wire: sprocket " + std::to_string(sprocket::encode(reference).size() + sprocket::frame_header_size) +
            " (7-key packet + frame header), bytes state " +
            std::to_string(sprocket::encode(sprocket::Packet{{"id", 17}, {"s", sprocket::Bytes(raw_state_size)}}).size() +
                           sprocket::frame_header_size) +
            "; sf::Packet 37 (33 + length); raw TCP 36 (32-byte struct + length); ENet 32 + its headers.",
        "\"sprocket, bytes state\": {\"id\": n, \"s\": the 32-byte struct as bytes} instead of the 7-key map: the transport without most of the codec's work.",
        "sprocket's source pauses while Sprocket::stats().send_queue > 1 MiB; ENet's while > 8192 packets are unacknowledged.",
    };
    write_tsv(options, "throughput.tsv", tsv);
    const bool ok = publish(options, "throughput", {table},
                            header("bench_throughput", "one client process to one server process on 127.0.0.1", options.quick));
    return ok && failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string which = argc > 1 ? argv[1] : "";
    if (which == "sink" && argc == 3) {
        return role([&] { return sink(argv[2]); });
    }
    if (which == "source" && argc == 5) {
        return role([&] { return source(argv[2], static_cast<std::uint16_t>(std::stoi(argv[3])), std::stod(argv[4])); });
    }
    signal(SIGPIPE, SIG_IGN);
    return run(parse_options(argc, argv, "usage: bench_throughput [--quick] [--out DIR]"));
}

// bench_bulk: one big bytes packet from a client process to a server process (a level, a
// replay, an asset), sprocket next to raw TCP and sf::Packet; and what happens to small packets
// sent while it is on its way.
//
//   bench_bulk [--quick] [--out DIR]
//
// Transfers of 16 MiB (2 of warm-up, then 5 times) and 256 MiB (3 times) (--quick: 1 MiB and
// 4 MiB), timed from just before the sender's send call until the receiver's loop holds the whole
// packet (one CLOCK_MONOTONIC for both processes); MB/s = 10^6 bytes per second, median of the
// repetitions. The first transfer of each process is also shown on its own: its memory is fresh
// (the allocator maps new pages, and touching a new page costs the kernel about a microsecond).
//   sprocket    client.send(std::move(packet)) of a Packet with {"data": Bytes} (sent from where
//               it is, not copied); server.get(1s) on the other side; max_frame_size,
//               max_send_queue and max_receive_queue raised to fit
//   raw TCP     a 4-byte length, then the bytes, with blocking send(2); the receiver reads them
//               straight into a buffer allocated (and touched) beforehand: the floor
//   sf::Packet  packet.append(bytes) and sf::TcpSocket::send(packet); receive(packet) (16 MiB only)
// Small packets while a bulk packet is in flight (sprocket): right after send() returns, the
// client sends a small packet ({"t": stamp}, channel "small") every millisecond until the bulk
// packet has arrived. Their one-way latency (arrival in the server's get() - stamp) is compared
// with the same small packets sent when nothing else is queued.
//
// Roles (the parent drives them line by line):
//   bench_bulk sink TRANSPORT MAX            "port", then "got SIZE T_NS" per bulk, "small T_SENT T_GOT"
//   bench_bulk source TRANSPORT PORT MAX     reads "smalls K", "bulk SIZE", "next", "end"; prints
//                                            "ready", "smalls_done", "bulk_sent SIZE T0 T_RETURNED"

#include "common.hpp"
#include "net.hpp"
#include "state.hpp"

#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <SFML/Network/TcpListener.hpp>
#include <SFML/Network/TcpSocket.hpp>

namespace {

using namespace bench;

const std::vector<std::string> transports{"sprocket", "raw TCP", "sf::Packet"};

/// The bytes a bulk packet carries: a pattern the receiver can check.
std::vector<std::uint8_t> pattern(std::size_t size) {
    std::vector<std::uint8_t> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(i * 31 + 7);
    return bytes;
}

bool pattern_ok(const std::uint8_t* data, std::size_t size) {
    for (std::size_t i = 0; i < size; i += 4093)
        if (data[i] != static_cast<std::uint8_t>(i * 31 + 7)) return false;
    return size == 0 || data[size - 1] == static_cast<std::uint8_t>((size - 1) * 31 + 7);
}

void got(std::size_t size, std::int64_t at) { report("got", std::to_string(size) + " " + std::to_string(at)); }

/// Options that let one packet of `max` bytes through, with small packets queued behind it.
template <class Options>
Options big(std::size_t max) {
    Options o;
    o.max_frame_size = max + (std::size_t{1} << 20);
    o.max_send_queue = 2 * max + (std::size_t{4} << 20);
    o.max_receive_queue = 2 * max + (std::size_t{4} << 20);
    o.linger = 30s;
    return o;
}

// --- sinks ------------------------------------------------------------------------------------------

int sink_sprocket(std::size_t max) {
    sprocket::Servo server(0, big<sprocket::ServoOptions>(max));
    report("port", server.port());
    for (bool done = false; !done;) {
        check(!parent_line(0ms), "stopped");
        for (const sprocket::Message& m : server.get(1s)) {
            const std::int64_t now = now_ns();
            const std::string& channel = m.packet.channel();
            if (channel == "small") {
                report("small", std::to_string(m.packet.get<std::int64_t>("t")) + " " + std::to_string(now));
            } else if (channel == "end") {
                done = true;
            } else {
                const auto* bytes = m.packet.find("data")->get_if<sprocket::Bytes>();
                check(bytes && pattern_ok(bytes->data(), bytes->size()), "sprocket: the bulk bytes are wrong");
                got(bytes->size(), now);
            }
        }
    }
    report("done", 1);
    parent_line(300s);
    return 0;
}

int sink_raw(std::size_t max) {
    std::vector<std::uint8_t> buffer(max, 1);  // allocated and touched before anything is timed
    const int listener = tcp_listen_reported();
    const int fd = tcp_accept(listener);
    for (;;) {
        std::uint32_t size = 0;
        check(read_all(fd, &size, 4) && size <= max, "raw TCP: bad length");
        if (size == 0) break;  // the end
        check(read_all(fd, buffer.data(), size), "raw TCP: connection lost");
        const std::int64_t now = now_ns();
        check(pattern_ok(buffer.data(), size), "raw TCP: the bulk bytes are wrong");
        got(size, now);
    }
    report("done", 1);
    parent_line(300s);
    ::close(fd);
    ::close(listener);
    return 0;
}

int sink_sfml() {
    sf::TcpListener listener;
    sf::TcpSocket socket;
    sf_accept_reported(listener, socket);
    for (;;) {
        sf::Packet in;
        check(socket.receive(in) == sf::Socket::Done, "sf: receive failed");
        const std::int64_t now = now_ns();
        if (in.getDataSize() == 0) break;  // the end
        check(pattern_ok(static_cast<const std::uint8_t*>(in.getData()), in.getDataSize()), "sf: the bulk bytes are wrong");
        got(in.getDataSize(), now);
    }
    report("done", 1);
    parent_line(300s);
    return 0;
}

// --- sources ----------------------------------------------------------------------------------------

/// The source's command loop; `bulk(bytes)` sends one bulk packet, `smalls(k)` k small packets
/// 1 ms apart, `small()` one (sent every ms until "next" after a bulk, when it is set).
template <class Bulk, class Small, class End>
int command_loop(std::size_t max, Bulk&& bulk, Small&& small, End&& end) {
    constexpr bool has_small = !std::is_same_v<std::decay_t<Small>, std::nullptr_t>;
    std::map<std::size_t, std::vector<std::uint8_t>> data;  // by size, made before timing
    report("ready", 1);
    for (;;) {
        const auto line = parent_line(300s);
        check(line.has_value() && *line != "eof", "the parent went away");
        std::istringstream in(*line);
        std::string command;
        std::size_t n = 0;
        in >> command >> n;
        if (command == "smalls") {
            if constexpr (has_small) {
                for (std::size_t i = 0; i < n; ++i) {
                    small();
                    std::this_thread::sleep_for(1ms);
                }
            }
            report("smalls_done", n);
        } else if (command == "bulk") {
            check(n <= max, "bulk larger than MAX");
            auto& bytes = data[n];
            if (bytes.size() != n) bytes = pattern(n);
            const std::int64_t t0 = now_ns();
            bulk(bytes);
            const std::int64_t returned = now_ns();
            report("bulk_sent", std::to_string(n) + " " + std::to_string(t0) + " " + std::to_string(returned));
            if constexpr (has_small) {
                // Small packets every millisecond until the parent says the bulk one arrived.
                for (bool more = true; more;) {
                    small();
                    const auto next = parent_line(1ms);
                    more = !next.has_value();
                    check(!next || *next == "next", "unexpected command while a bulk packet is in flight");
                }
            }
        } else if (command == "next") {
            continue;
        } else if (command == "end") {
            end();
            report("ended", 1);
            parent_line(300s);
            return 0;
        }
    }
}

int source_sprocket(std::uint16_t port, std::size_t max) {
    sprocket::Sprocket client("127.0.0.1", port, big<sprocket::SprocketOptions>(max));
    check(client.wait_connected(5s), "sprocket: not connected");
    return command_loop(
        max,
        [&](std::vector<std::uint8_t>& bytes) {
            // Moved in, and sent from where it is: the bytes are made again for the next one.
            sprocket::Packet packet;
            packet.set("data", std::move(bytes));
            check(client.send(std::move(packet)), "sprocket: bulk send refused");
        },
        [&] { check(client.send(sprocket::Packet::on("small", {{"t", now_ns()}})), "sprocket: small send refused"); },
        [&] { client.send(sprocket::Packet::on("end", {})); });
}

int source_raw(std::uint16_t port, std::size_t max) {
    const int fd = tcp_connect(port);
    check(fd >= 0, "raw TCP: cannot connect");
    const int code = command_loop(
        max,
        [&](std::vector<std::uint8_t>& bytes) {
            const auto size = static_cast<std::uint32_t>(bytes.size());
            check(write_all(fd, &size, 4) && write_all(fd, bytes.data(), bytes.size()), "raw TCP: send failed");
        },
        nullptr,
        [&] {
            const std::uint32_t zero = 0;
            write_all(fd, &zero, 4);
        });
    ::close(fd);
    return code;
}

int source_sfml(std::uint16_t port, std::size_t max) {
    sf::TcpSocket socket;
    check(socket.connect(sf::IpAddress("127.0.0.1"), port, sf::seconds(5)) == sf::Socket::Done, "sf: cannot connect");
    return command_loop(
        max,
        [&](std::vector<std::uint8_t>& bytes) {
            sf::Packet p;
            p.append(bytes.data(), bytes.size());
            check(socket.send(p) == sf::Socket::Done, "sf: send failed");
        },
        nullptr,
        [&] {
            sf::Packet empty;
            socket.send(empty);
        });
}

// --- the benchmark ----------------------------------------------------------------------------------

struct Transfer {
    double size, t0, returned, arrived;
};

struct Step {
    std::size_t size;
    int warmup;  // transfers before the measured ones (the first is reported on its own)
    int times;
};

struct Outcome {
    std::map<std::size_t, Cell> mbps;  // by size
    Cell first;                        // MB/s of the process's first transfer
    std::vector<Transfer> transfers;
    std::vector<std::pair<double, double>> smalls;  // sent, arrived
};

int failures = 0;

Outcome measure(const std::string& transport, const std::vector<Step>& plan, std::size_t max) {
    Outcome out;
    try {
        Child sink({"sink", transport, std::to_string(max)});
        const std::string port = sink.expect("port", 60s);
        Child source({"source", transport, port, std::to_string(max)});
        source.expect("ready", 60s);
        if (transport == "sprocket") {
            source.tell("smalls 200");
            source.expect("smalls_done", 60s);
        }
        bool first_done = false;
        for (const auto& [size, warmup, times] : plan) {
            std::vector<double> rates;
            for (int r = 0; r < warmup + times; ++r) {
                source.tell("bulk " + std::to_string(size));
                std::istringstream arrived(sink.next("got", 300s));
                std::istringstream sent(source.next("bulk_sent", 10s));
                Transfer t{};
                double got_size = 0;
                arrived >> got_size >> t.arrived;
                sent >> t.size >> t.t0 >> t.returned;
                check(got_size == t.size, "the sizes differ");
                source.tell("next");
                const double rate = t.size / ((t.arrived - t.t0) / 1e9) / 1e6;
                if (!first_done) out.first = Cell::of(rate);
                first_done = true;
                if (r < warmup) continue;
                rates.push_back(rate);
                out.transfers.push_back(t);
            }
            out.mbps[size] = Cell::of(median(rates));
        }
        source.tell("end");
        sink.expect("done", 120s);
        for (const std::string& s : sink.values("small")) {
            std::istringstream in(s);
            double sent = 0, arrived = 0;
            in >> sent >> arrived;
            out.smalls.emplace_back(sent, arrived);
        }
        sink.tell("stop");
        source.tell("stop");
        source.wait(30s);
        sink.wait(30s);
    } catch (const std::exception& e) {
        std::cerr << "bench_bulk: " << transport << ": " << e.what() << '\n';
        ++failures;
        for (const auto& step : plan) out.mbps[step.size] = Cell::none("failed");
        out.first = Cell::none("failed");
    }
    return out;
}

std::string mib(std::size_t size) { return std::to_string(size >> 20) + " MiB"; }

int run(const Options& options) {
    const std::size_t small_size = options.quick ? std::size_t{1} << 20 : std::size_t{16} << 20;
    const std::size_t large_size = options.quick ? std::size_t{4} << 20 : std::size_t{256} << 20;
    const std::vector<Step> plan{{small_size, options.quick ? 1 : 2, options.quick ? 2 : 5}, {large_size, 0, options.quick ? 1 : 3}};
    std::map<std::string, Outcome> results;
    for (const std::string& t : transports) {
        std::cerr << "bench_bulk: " << t << "...\n";
        auto p = plan;
        if (t == "sf::Packet") p.pop_back();  // sf::Packet: the 16 MiB one only
        results[t] = measure(t, p, t == "sf::Packet" ? small_size : large_size);
    }

    Table table;
    table.title = "Bulk: one bytes packet from a client process to a server process";
    table.columns = transports;
    std::vector<std::vector<std::string>> tsv{{"transport", "size", "MB_per_s"}};
    std::vector<Cell> first;
    for (const std::string& t : transports) first.push_back(results[t].first);
    table.add(mib(small_size) + ": MB/s of the first transfer (fresh memory)", first);
    for (const auto& [size, warmup, times] : plan) {
        std::vector<Cell> row;
        for (const std::string& t : transports) {
            auto it = results[t].mbps.find(size);
            row.push_back(it != results[t].mbps.end() ? it->second : Cell::none("-"));
            if (row.back().value) tsv.push_back({t, mib(size), fixed(*row.back().value, 1)});
        }
        const std::string after = warmup > 0 ? " after " + std::to_string(warmup) + " of warm-up" : "";
        table.add(mib(size) + ": MB/s (median of " + std::to_string(times) + after + ")", row);
    }

    // Small packets (sprocket): alone, then while each bulk packet was in flight.
    const Outcome& s = results["sprocket"];
    std::vector<double> alone;
    const double first_bulk = s.transfers.empty() ? 1e300 : s.transfers.front().t0;
    for (const auto& [sent, arrived] : s.smalls)
        if (sent < first_bulk) alone.push_back((arrived - sent) / 1e6);
    table.add("small packet alone: one-way median, ms", {alone.empty() ? Cell::none("failed") : Cell::of(median(alone))});
    for (const auto& [size, warmup, times] : plan) {
        std::vector<double> latency, transfer_ms;
        std::size_t before = 0;
        for (const Transfer& t : s.transfers) {
            if (static_cast<std::size_t>(t.size) != size) continue;
            transfer_ms.push_back((t.arrived - t.t0) / 1e6);
            for (const auto& [sent, arrived] : s.smalls) {
                if (sent < t.returned || sent > t.arrived) continue;  // not sent while this one was in flight
                latency.push_back((arrived - sent) / 1e6);
                before += arrived < t.arrived ? 1 : 0;
            }
        }
        std::sort(latency.begin(), latency.end());
        const std::string during = mib(size) + " in flight: ";
        auto cell = [&](double v) { return latency.empty() ? Cell::none("none sent") : Cell::of(v); };
        table.add(during + "bulk transfer time, median ms", {transfer_ms.empty() ? Cell::none("failed") : Cell::of(median(transfer_ms))});
        table.add(during + "small packets sent meanwhile", {Cell::of(static_cast<double>(latency.size()))});
        table.add(during + "their one-way median, ms", {cell(percentile(latency, 50))});
        table.add(during + "their one-way max, ms", {cell(latency.empty() ? 0 : latency.back())});
        table.add(during + "% of them that arrived before the bulk packet",
                  {cell(latency.empty() ? 0 : 100.0 * static_cast<double>(before) / static_cast<double>(latency.size()))});
    }
    table.notes = {
        "ratio = sprocket / that column (below 1: sprocket is slower). MB/s: 10^6 bytes per second, from before the "
        "send call until the receiver's loop holds the whole packet.",
        "First transfer: the first of each process pair, not counted in the median after it: sprocket's and "
        "sf::Packet's buffers are then fresh memory (new pages, supplied by the kernel on first touch; the allocator "
        "keeps them for the later transfers), raw TCP's receive buffer is allocated and touched before anything is timed.",
        "sprocket: the source sends the packet by move (its bytes go out from where they are); options on both sides: "
        "max_frame_size = size + 1 MiB, max_send_queue = max_receive_queue = 2 x size + 4 MiB.",
        "Small packets: sprocket only, sent every ms from the moment send(bulk) returned until the bulk packet arrived; "
        "raw TCP and sf::TcpSocket have one ordered stream per connection, so a small message written after a bulk one "
        "waits for all of it there by construction.",
    };
    write_tsv(options, "bulk.tsv", tsv);
    const bool ok = publish(options, "bulk", {table}, header("bench_bulk", "one client process to one server process on 127.0.0.1", options.quick));
    return ok && failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string which = argc > 1 ? argv[1] : "";
    if (which == "sink" && argc == 4) {
        const std::string t = argv[2];
        const std::size_t max = std::stoul(argv[3]);
        return role([&] { return t == "sprocket" ? sink_sprocket(max) : t == "raw TCP" ? sink_raw(max) : sink_sfml(); });
    }
    if (which == "source" && argc == 5) {
        const std::string t = argv[2];
        const auto port = static_cast<std::uint16_t>(std::stoi(argv[3]));
        const std::size_t max = std::stoul(argv[4]);
        return role([&] {
            return t == "sprocket" ? source_sprocket(port, max) : t == "raw TCP" ? source_raw(port, max) : source_sfml(port, max);
        });
    }
    signal(SIGPIPE, SIG_IGN);
    return run(parse_options(argc, argv, "usage: bench_bulk [--quick] [--out DIR]"));
}

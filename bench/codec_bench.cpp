// bench_codec: one game state packet, encoded and decoded by sprocket, by sf::Packet and by
// plain cereal, side by side, with the same data in the same run.
//
//   bench_codec [--quick] [--out DIR]
//
// Prints a table (codec | ns per round trip | bytes | vs sprocket), then one of single
// operations (the 64-player state of bench_fanout encoded, decoded, checked as the I/O thread
// does and decoded as the game thread then does with decode_checked; the 7-key state decoded
// both ways; a 16 MiB bytes packet as bench_bulk sends). Each time is the median of several repetitions,
// each timing a batch of calls with std::chrono::steady_clock.
// --quick measures briefly (a smoke test); --out DIR also writes DIR/codec.md and DIR/codec.json.
// "bytes" is the encoded body only: sprocket's frame header (5 bytes) and the length prefix
// sf::TcpSocket puts before an sf::Packet (4 bytes) are not counted.

#include "common.hpp"
#include "state.hpp"

#include <sprocket/codec.hpp>
#include <sprocket/packet.hpp>

#include <SFML/Network/Packet.hpp>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#ifndef SPROCKET_BENCH_BUILD_TYPE
#define SPROCKET_BENCH_BUILD_TYPE ""
#endif

namespace {

// --- the data: the reference state packet (state.hpp), and the same state as a cereal map ------

using bench::PlayerState;
using bench::to_packet;

// What a project using cereal directly would write for a "dictionary" packet.
using CerealValue = std::variant<bool, std::int64_t, double, std::string>;
using CerealMap = std::map<std::string, CerealValue>;

CerealMap to_cereal_map(const PlayerState& s) {
    return CerealMap{{"id", std::int64_t{s.id}},  {"name", s.name},
                     {"x", double{s.x}},          {"y", double{s.y}},
                     {"angle", double{s.angle}},  {"hp", std::int64_t{s.hp}},
                     {"alive", s.alive}};
}

std::string cereal_encode(const CerealMap& map) {
    std::ostringstream os(std::ios::binary);
    {
        cereal::PortableBinaryOutputArchive ar(os);
        ar(map);
    }
    return os.str();
}

CerealMap cereal_decode(const std::string& bytes) {
    std::istringstream is(bytes, std::ios::binary);
    cereal::PortableBinaryInputArchive ar(is);
    CerealMap map;
    ar(map);
    return map;
}

// The 64-player state bench_fanout sends each tick: a tick, a stamp and a list of 64 maps of
// the reference state (3.9 KB encoded). Decoding it is the receiving side's cost per state.
sprocket::Packet fanout_state() {
    sprocket::List players;
    players.reserve(64);
    for (int i = 0; i < 64; ++i) {
        PlayerState s;
        s.id = i;
        s.name = "Player " + std::to_string(i);
        s.x = 10.0f * static_cast<float>(i);
        players.emplace_back(sprocket::Map(to_packet(s)));
    }
    return sprocket::Packet::on("state", {{"tick", 1}, {"t", 123456789}, {"players", std::move(players)}});
}

// One 16 MiB bytes value, as bench_bulk sends.
sprocket::Packet bulk_packet() {
    sprocket::Bytes blob(std::size_t{16} << 20);
    for (std::size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<std::uint8_t>(i * 31);
    return sprocket::Packet::on("bulk", {{"data", std::move(blob)}});
}

// --- measuring --------------------------------------------------------------------------------

using Clock = std::chrono::steady_clock;

struct Settings {
    Clock::duration batch_time;  // how long one timed repetition lasts, roughly
    int repetitions;
};

// Nanoseconds per call of `round_trip` (the median over the repetitions). `round_trip` returns a
// number taken from what it decoded; the numbers are summed into `checksum`, which main prints,
// so the optimizer cannot discard the work.
template <class F>
double measure(F round_trip, const Settings& settings, std::uint64_t& checksum) {
    std::uint64_t sum = 0;
    auto run = [&](std::uint64_t n) {
        const auto start = Clock::now();
        for (std::uint64_t i = 0; i < n; ++i) sum += round_trip();
        return Clock::now() - start;
    };

    // Find a batch size that lasts about batch_time (this also warms caches and the allocator).
    std::uint64_t batch = 16;
    Clock::duration elapsed = run(batch);
    while (elapsed < settings.batch_time / 10) {
        batch *= 2;
        elapsed = run(batch);
    }
    const double scale = std::chrono::duration<double>(settings.batch_time) / elapsed;
    batch = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(static_cast<double>(batch) * scale));

    std::vector<double> ns_per_call;
    for (int r = 0; r < settings.repetitions; ++r) {
        const std::chrono::duration<double, std::nano> t = run(batch);
        ns_per_call.push_back(t.count() / static_cast<double>(batch));
    }
    std::sort(ns_per_call.begin(), ns_per_call.end());
    checksum += sum;
    return ns_per_call[ns_per_call.size() / 2];
}

// --- output -----------------------------------------------------------------------------------

struct Row {
    std::string codec;
    double ns = 0;          // per round trip
    std::size_t bytes = 0;  // encoded size
};

std::string fixed(double v, int digits) {
    std::ostringstream os;
    os << std::fixed << std::setprecision(digits) << v;
    return os.str();
}

std::string ratio(const Row& row, const Row& base) { return fixed(row.ns / base.ns, 2) + "x"; }

// A table's column heads and how its last column reads: "vs sprocket" (against the first row)
// for the round trips, "MB/s" (bytes through per second) for the bigger packets.
struct Layout {
    std::string what, time, last;
    std::string (*last_cell)(const Row& row, const Row& first);
};

std::string throughput(const Row& row, const Row&) {
    return fixed(static_cast<double>(row.bytes) / row.ns * 1e3, 0);  // bytes per ns = GB/s
}

const Layout round_trips{"codec", "ns per round trip", "vs sprocket", ratio};
const Layout single_ops{"packet, operation", "ns per call", "MB/s", throughput};

void print_text(std::ostream& os, const std::vector<Row>& rows, const Layout& layout) {
    const std::vector<std::string> head{layout.what, layout.time, "bytes", layout.last};
    std::size_t w0 = head[0].size();
    for (const Row& r : rows) w0 = std::max(w0, r.codec.size());
    const std::size_t w1 = head[1].size(), w2 = std::max<std::size_t>(head[2].size(), 8),
                      w3 = std::max<std::size_t>(head[3].size(), 5);

    os << std::left << std::setw(static_cast<int>(w0)) << head[0] << " | " << std::setw(static_cast<int>(w1))
       << head[1] << " | " << std::setw(static_cast<int>(w2)) << head[2] << " | " << head[3] << '\n'
       << std::string(w0, '-') << "-+-" << std::string(w1, '-') << "-+-" << std::string(w2, '-')
       << "-+-" << std::string(w3, '-') << '\n';
    for (const Row& r : rows) {
        os << std::left << std::setw(static_cast<int>(w0)) << r.codec << std::right << " | "
           << std::setw(static_cast<int>(w1)) << fixed(r.ns, 1) << " | "
           << std::setw(static_cast<int>(w2)) << r.bytes << " | "
           << std::setw(static_cast<int>(w3)) << layout.last_cell(r, rows.front()) << '\n';
    }
}

void print_markdown(std::ostream& os, const std::vector<Row>& rows, const Layout& layout) {
    os << "| " << layout.what << " | " << layout.time << " | bytes | " << layout.last
       << " |\n|---|---:|---:|---:|\n";
    for (const Row& r : rows)
        os << "| " << r.codec << " | " << fixed(r.ns, 1) << " | " << r.bytes << " | "
           << layout.last_cell(r, rows.front()) << " |\n";
}

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + '"';
}

void print_json(std::ostream& os, const std::vector<Row>& rows) {
    os << "[\n";
    for (std::size_t i = 0; i < rows.size(); ++i)
        os << "  {\"codec\": " << json_string(rows[i].codec) << ", \"ns\": " << fixed(rows[i].ns, 1)
           << ", \"bytes\": " << rows[i].bytes << "}" << (i + 1 < rows.size() ? "," : "") << '\n';
    os << "]\n";
}



bool write_file(const std::filesystem::path& path, void (*print)(std::ostream&, const std::vector<Row>&),
                const std::vector<Row>& rows) {
    std::ofstream file(path);
    print(file, rows);
    file.close();
    if (!file) std::cerr << "bench_codec: cannot write " << path << '\n';
    return static_cast<bool>(file);
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false;
    std::string out_dir;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--quick") {
            quick = true;
        } else if (arg == "--out" && i + 1 < argc) {
            out_dir = argv[++i];
        } else {
            std::cerr << "usage: bench_codec [--quick] [--out DIR]\n";
            return 2;
        }
    }
    using namespace std::chrono_literals;
    const Settings settings = quick ? Settings{2ms, 3} : Settings{100ms, 9};

    // Same data for everyone; check once, outside timing, that each codec gives it back.
    const PlayerState state;
    const sprocket::Packet packet = to_packet(state);
    const CerealMap cereal_map = to_cereal_map(state);

    const sprocket::Bytes sprocket_bytes = sprocket::encode(packet);
    const sprocket::DecodeResult decoded = sprocket::decode(sprocket_bytes);
    sf::Packet sf_out;
    sf_out << state;
    sf::Packet sf_in;
    sf_in.append(sf_out.getData(), sf_out.getDataSize());
    PlayerState sf_state;
    const bool sf_ok = (sf_in >> sf_state) && sf_state == state;
    const std::string cereal_bytes = cereal_encode(cereal_map);
    if (!decoded || decoded.packet() != packet || !sf_ok || cereal_decode(cereal_bytes) != cereal_map) {
        std::cerr << "bench_codec: a codec did not give the reference packet back\n";
        return 1;
    }

    std::uint64_t checksum = 0;
    std::vector<Row> rows;

    rows.push_back({"sprocket", measure([&] {
                        const sprocket::Bytes bytes = sprocket::encode(packet);
                        const sprocket::DecodeResult r = sprocket::decode(bytes);
                        return static_cast<std::uint64_t>(r.packet().get<std::int64_t>("id")) + bytes.size();
                    }, settings, checksum), sprocket_bytes.size()});

    sprocket::Bytes buf;
    rows.push_back({"sprocket (reused buffer)", measure([&] {
                        buf.clear();
                        sprocket::encode_to(packet, buf);
                        const sprocket::DecodeResult r = sprocket::decode(buf);
                        return static_cast<std::uint64_t>(r.packet().get<std::int64_t>("id")) + buf.size();
                    }, settings, checksum), sprocket_bytes.size()});

    rows.push_back({"sf::Packet (Int32, string, 3 float, Int32, bool)", measure([&] {
                        sf::Packet out;
                        out << state;
                        sf::Packet in;  // what sf::TcpSocket::receive fills on the other side
                        in.append(out.getData(), out.getDataSize());
                        PlayerState s;
                        in >> s;
                        return static_cast<std::uint64_t>(s.id) + out.getDataSize();
                    }, settings, checksum), sf_out.getDataSize()});

    rows.push_back({"cereal PortableBinary (map<string, variant>)", measure([&] {
                        const std::string bytes = cereal_encode(cereal_map);
                        const CerealMap m = cereal_decode(bytes);
                        return static_cast<std::uint64_t>(std::get<std::int64_t>(m.at("id"))) + bytes.size();
                    }, settings, checksum), cereal_bytes.size()});

    // Bigger packets, one operation at a time: what a fan-out client and a bulk transfer pay.
    const sprocket::Packet fanout = fanout_state();
    const sprocket::Bytes fanout_bytes = sprocket::encode(fanout);
    const sprocket::Packet bulk = bulk_packet();
    const sprocket::Bytes bulk_bytes = sprocket::encode(bulk);
    {
        const sprocket::DecodeResult f = sprocket::decode(fanout_bytes);
        const sprocket::DecodeResult b = sprocket::decode(bulk_bytes);
        if (!f || f.packet() != fanout || !b || b.packet() != bulk) {
            std::cerr << "bench_codec: the 64-player state or the bulk packet did not decode back\n";
            return 1;
        }
    }
    const Settings big = quick ? settings : Settings{settings.batch_time * 3, settings.repetitions};
    std::vector<Row> ops;
    ops.push_back({"64-player state (64 maps) encode", measure([&] {
                       return static_cast<std::uint64_t>(sprocket::encode(fanout).size());
                   }, settings, checksum), fanout_bytes.size()});
    ops.push_back({"64-player state (64 maps) decode", measure([&] {
                       const sprocket::DecodeResult r = sprocket::decode(fanout_bytes);
                       return static_cast<std::uint64_t>(r.packet().get<std::int64_t>("tick")) + r.packet().size();
                   }, settings, checksum), fanout_bytes.size()});
    ops.push_back({"64-player state (64 maps) check (the I/O thread's part of a decode)", measure([&] {
                       const sprocket::CheckResult r = sprocket::check(fanout_bytes.data(), fanout_bytes.size());
                       return static_cast<std::uint64_t>(r.footprint());
                   }, settings, checksum), fanout_bytes.size()});
    ops.push_back({"64-player state (64 maps) decode_checked (the game thread's part)", measure([&] {
                       const sprocket::Packet p = sprocket::detail::decode_checked(fanout_bytes.data(), fanout_bytes.size());
                       return static_cast<std::uint64_t>(p.get<std::int64_t>("tick")) + p.size();
                   }, settings, checksum), fanout_bytes.size()});
    ops.push_back({"7-key state packet decode", measure([&] {
                       const sprocket::DecodeResult r = sprocket::decode(sprocket_bytes);
                       return static_cast<std::uint64_t>(r.packet().get<std::int64_t>("id")) + r.packet().size();
                   }, settings, checksum), sprocket_bytes.size()});
    ops.push_back({"7-key state packet decode_checked", measure([&] {
                       const sprocket::Packet p = sprocket::detail::decode_checked(sprocket_bytes.data(), sprocket_bytes.size());
                       return static_cast<std::uint64_t>(p.get<std::int64_t>("id")) + p.size();
                   }, settings, checksum), sprocket_bytes.size()});
    ops.push_back({"16 MiB bytes packet encode", measure([&] {
                       const sprocket::Bytes bytes = sprocket::encode(bulk);
                       return static_cast<std::uint64_t>(bytes[bytes.size() / 2]) + bytes.size();
                   }, big, checksum), bulk_bytes.size()});
    ops.push_back({"16 MiB bytes packet decode", measure([&] {
                       const sprocket::DecodeResult r = sprocket::decode(bulk_bytes);
                       const auto* data = r.packet().at("data").get_if<sprocket::Bytes>();
                       return static_cast<std::uint64_t>((*data)[data->size() / 2]) + data->size();
                   }, big, checksum), bulk_bytes.size()});

    const std::string head = "bench_codec: reference state packet, encode + decode; " + bench::compiler() + ", " + bench::build_type() +
                             "; median of " + std::to_string(settings.repetitions) + " x ~" +
                             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(settings.batch_time).count()) +
                             " ms" + (quick ? " (--quick)" : "");
    std::cout << head << "\n\n";
    print_text(std::cout, rows, round_trips);
    std::cout << '\n';
    print_text(std::cout, ops, single_ops);
    std::cout << "\nbytes: encoded body only, no frame or length header. checksum " << checksum << '\n';

    if (!out_dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(out_dir, ec);
        if (ec) {
            std::cerr << "bench_codec: cannot create " << out_dir << ": " << ec.message() << '\n';
            return 1;
        }
        const std::filesystem::path dir(out_dir);
        std::vector<Row> all = rows;
        all.insert(all.end(), ops.begin(), ops.end());
        std::ofstream md(dir / "codec.md");
        md << "## bench_codec\n\n" << head << "\n\n";
        print_markdown(md, rows, round_trips);
        md << '\n';
        print_markdown(md, ops, single_ops);
        md.close();
        if (!md) std::cerr << "bench_codec: cannot write " << dir / "codec.md" << '\n';
        if (!md || !write_file(dir / "codec.json", print_json, all)) return 1;
    }
    return 0;
}

// netem_check: one side of `./dev netem`, which runs the server in one network namespace and
// the client in another, joined by a veth pair with `tc netem` impairments and an outage.
//
//   netem_check server HOST PORT SECONDS
//       echoes every packet back to its sender, for SECONDS
//   netem_check client HOST PORT SECONDS OUTAGE_FROM OUTAGE_TO
//       sends a numbered packet every 20 ms and checks the echoes; the outage (all packets
//       lost) runs from OUTAGE_FROM to OUTAGE_TO seconds after the client starts
//
// The client exits 0 when: echoes came back exactly once and in order; no disconnect was
// reported before the outage (heartbeats did not false-alarm under delay, jitter and loss);
// the outage was reported within `timeout` (plus slack) and the client was back within a few
// seconds of its end; every packet sent while connected and well before or after it came back.
#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

int serve(const std::string& host, std::uint16_t port, double seconds) {
    sprocket::ServoOptions options;
    options.host = host;
    sprocket::Servo server(port, options);
    std::cout << "server listening on " << host << ':' << server.port() << std::endl;
    const auto start = Clock::now();
    std::size_t echoed = 0;
    while (since(start) < seconds) {
        server.wait(100ms);
        for (const sprocket::Event& e : server.poll()) {
            if (e.kind == sprocket::EventKind::packet) echoed += server.send(e.client, e.packet);
            else std::cout << "[" << since(start) << " s] " << e << std::endl;
        }
    }
    std::cout << "server echoed " << echoed << " packets" << std::endl;
    return 0;
}

int client(const std::string& host, std::uint16_t port, double seconds, double outage_from, double outage_to) {
    sprocket::SprocketOptions options;
    options.reconnect = true;
    options.heartbeat_interval = 1s;
    options.timeout = 4s;
    options.reconnect_delay = 250ms;
    options.reconnect_max_delay = 1s;
    const double slack = 3;  // seconds: 100 ms ± 20 ms each way, retransmissions at 5% loss
    sprocket::Sprocket link(host, port, options);
    const auto start = Clock::now();

    std::map<std::int64_t, double> sent;  // seq -> when sent (while connected)
    std::int64_t next = 0, last_echo = -1;
    int failures = 0, disconnects = 0;
    double lost_at = -1, back_at = -1;
    const auto fail = [&](const std::string& why) {
        ++failures;
        std::cout << "FAIL [" << since(start) << " s] " << why << std::endl;
    };
    auto next_send = Clock::now();
    while (since(start) < seconds) {
        if (Clock::now() >= next_send) {
            if (link.connected() && link.send({{"seq", next}})) sent[next++] = since(start);
            next_send += 20ms;
        }
        link.wait(std::chrono::duration_cast<std::chrono::milliseconds>(std::max(next_send - Clock::now(), Clock::duration::zero())));
        for (const sprocket::Event& e : link.poll()) {
            const double t = since(start);
            if (e.kind == sprocket::EventKind::packet) {
                const auto seq = e.packet.get<std::int64_t>("seq");
                if (seq <= last_echo) fail("echo " + std::to_string(seq) + " after " + std::to_string(last_echo) + " (duplicate or reordered)");
                last_echo = seq;
                sent.erase(seq);
                continue;
            }
            std::cout << "[" << t << " s] " << e << std::endl;
            if (e.kind == sprocket::EventKind::reconnecting) {
                ++disconnects;
                if (t < outage_from) fail("disconnected before the outage (a false alarm)");
                if (lost_at < 0) lost_at = t;
                // Packets in flight on the lost connection are gone with it; say how many.
                std::cout << "  " << sent.size() << " packets were in flight on the lost connection" << std::endl;
                sent.clear();
            }
            if (e.kind == sprocket::EventKind::connected && lost_at >= 0 && back_at < 0) back_at = t;
        }
    }
    const double grace = 2;  // the newest packets may still be on their way
    for (const auto& [seq, t] : sent)
        if (t < seconds - grace) fail("packet " + std::to_string(seq) + " sent at " + std::to_string(t) + " s never came back");
    if (lost_at < 0) fail("the outage was never reported");
    else if (lost_at > outage_from + 4 + slack) fail("the outage was reported late: at " + std::to_string(lost_at) + " s");
    if (back_at < 0) fail("never came back after the outage");
    else if (back_at > outage_to + 1 + slack) fail("came back late: at " + std::to_string(back_at) + " s");
    std::cout << "client: " << next << " sent, last echo " << last_echo << ", " << disconnects
              << " reconnect attempt(s), outage reported at " << lost_at << " s, back at " << back_at << " s: "
              << (failures == 0 ? "PASS" : "FAIL") << std::endl;
    return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string role = argc > 1 ? argv[1] : "";
    if (role == "server" && argc == 5) return serve(argv[2], static_cast<std::uint16_t>(std::atoi(argv[3])), std::atof(argv[4]));
    if (role == "client" && argc == 7)
        return client(argv[2], static_cast<std::uint16_t>(std::atoi(argv[3])), std::atof(argv[4]), std::atof(argv[5]), std::atof(argv[6]));
    std::cerr << "usage: netem_check server HOST PORT SECONDS | client HOST PORT SECONDS OUTAGE_FROM OUTAGE_TO\n";
    return 2;
}

// sprocket-relay as a real process: started with --port 0, the port parsed from its first line,
// driven by Sprocket clients on 127.0.0.1. Every wait has a deadline that is only reached when
// something is wrong. Also: demo_echo runs on its own and exits 0.
#include "../net/helpers.hpp"
#include "../support/child_process.hpp"

#include <algorithm>
#include <csignal>
#include <stdexcept>
#include <string>
#include <vector>

using namespace nettest;
using testsupport::ChildProcess;
using sprocket::CloseReason;
using sprocket::EventKind;
using sprocket::Packet;
using sprocket::Sprocket;

namespace {

ChildProcess::Clock::time_point deadline() { return ChildProcess::Clock::now() + patience; }

/// The port in the relay's first line, `listening on 127.0.0.1:PORT`.
std::uint16_t listening_port(ChildProcess& relay) {
    const std::uint16_t port = testsupport::read_port(relay, "listening on 127.0.0.1:", deadline());
    INFO("stdout: " << relay.out() << "\nstderr: " << relay.err());
    REQUIRE(port != 0);
    return port;
}

std::vector<std::string> with_free_port(std::vector<std::string> args) {
    args.insert(args.begin(), {"--port", "0"});
    return args;
}

/// A running `sprocket-relay --port 0 ARGS...` and the port it listens on. Destroying it
/// stops the process (SIGTERM) and reaps it.
struct Relay {
    explicit Relay(std::vector<std::string> args = {})
        : process(SPROCKET_RELAY_PATH, with_free_port(std::move(args))), port(listening_port(process)) {}

    Sprocket client(sprocket::SprocketOptions options = {}) const { return Sprocket("127.0.0.1", port, std::move(options)); }

    ChildProcess process;
    std::uint16_t port;
};

std::size_t count_lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace

TEST_CASE("relay: a packet reaches every other client, never its sender") {
    Relay relay;
    Sprocket a = relay.client(), b = relay.client(), c = relay.client();
    REQUIRE(connect(a));
    REQUIRE(connect(b));
    REQUIRE(connect(c));

    REQUIRE(a.send(Packet::on("chat", {{"text", "hello from A"}})));
    for (Sprocket* other : {&b, &c}) {
        const auto got = receive(*other, 1);
        REQUIRE(got.size() == 1);
        CHECK(got[0].channel() == "chat");  // the channel travels with the packet
        CHECK(got[0].get<std::string>("text") == "hello from A");
    }

    // Had A's packet come back to A, it would reach A before anything relayed later: so the
    // first packet A gets must be B's.
    REQUIRE(b.send({{"from", "B"}}));
    const auto at_a = receive(a, 1);
    REQUIRE(at_a.size() == 1);
    CHECK(at_a[0].get<std::string>("from") == "B");
    const auto at_c = receive(c, 1);
    REQUIRE(at_c.size() == 1);
    CHECK(at_c[0].get<std::string>("from") == "B");

    // Same for B: the first packet it gets after its own is C's.
    REQUIRE(c.send({{"from", "C"}}));
    const auto at_b = receive(b, 1);
    REQUIRE(at_b.size() == 1);
    CHECK(at_b[0].get<std::string>("from") == "C");
}

TEST_CASE("relay: --echo sends each packet back to its sender only") {
    Relay relay({"--echo"});
    Sprocket a = relay.client(), b = relay.client();
    REQUIRE(connect(a));
    REQUIRE(connect(b));

    REQUIRE(a.send(Packet::on("move", {{"x", 1.5}, {"from", "A"}})));
    const auto at_a = receive(a, 1);
    REQUIRE(at_a.size() == 1);
    CHECK(at_a[0] == Packet::on("move", {{"x", 1.5}, {"from", "A"}}));

    // A's packet was handled before B sent anything: had it gone to B too, it would reach B
    // before B's own echo.
    REQUIRE(b.send({{"from", "B"}}));
    const auto at_b = receive(b, 1);
    REQUIRE(at_b.size() == 1);
    CHECK(at_b[0].get<std::string>("from") == "B");

    // And B's packet did not go to A: A's next echo is the first thing A gets.
    REQUIRE(a.send({{"from", "A again"}}));
    const auto again = receive(a, 1);
    REQUIRE(again.size() == 1);
    CHECK(again[0].get<std::string>("from") == "A again");
}

TEST_CASE("relay: --password rejects a client with the wrong password") {
    Relay relay({"--password", "secret"});

    sprocket::SprocketOptions wrong;
    wrong.password = "guess";
    Sprocket intruder = relay.client(wrong);
    const sprocket::Event gone = next_event(intruder, EventKind::disconnected);
    CHECK(gone.reason == CloseReason::rejected);
    CHECK(gone.detail == "wrong password");
    const sprocket::Status status = intruder.status();
    CHECK(status.state == sprocket::State::disconnected);
    CHECK(status.reason == CloseReason::rejected);
    CHECK(status.detail == "wrong password");

    Sprocket no_password = relay.client();
    CHECK(next_event(no_password, EventKind::disconnected).detail == "wrong password");

    sprocket::SprocketOptions right;
    right.password = "secret";
    Sprocket member = relay.client(right);
    CHECK(connect(member));

    // Each refusal is logged with its reason; the guesses themselves never are.
    CHECK(relay.process.wait_for_output("rejected (wrong password)", Clock::now() + patience));
    CHECK(relay.process.out().find("guess") == std::string::npos);
}

TEST_CASE("relay: --max-clients 1 rejects a second client with \"server full\"") {
    Relay relay({"--max-clients", "1"});
    Sprocket first = relay.client();
    REQUIRE(connect(first));

    Sprocket second = relay.client();
    const sprocket::Event gone = next_event(second, EventKind::disconnected);
    CHECK(gone.reason == CloseReason::rejected);
    CHECK(gone.detail == "server full");
    CHECK(second.status().state == sprocket::State::disconnected);

    // Once the first has left, there is room again.
    first.close();
    REQUIRE(relay.process.wait_for_output("left client 1", deadline()));
    Sprocket third = relay.client();
    CHECK(connect(third));
}

TEST_CASE("relay: --app sets the application name clients must use") {
    Relay relay({"--app", "tanks"});

    Sprocket stranger = relay.client();  // the library's default application name
    const sprocket::Event gone = next_event(stranger, EventKind::disconnected);
    CHECK(gone.reason == CloseReason::rejected);
    CHECK(gone.detail.rfind("wrong application", 0) == 0);

    sprocket::SprocketOptions tanks;
    tanks.application = "tanks";
    Sprocket player = relay.client(tanks);
    CHECK(connect(player));
}

TEST_CASE("relay: joins and leaves are logged with their reasons") {
    Relay relay;
    Sprocket a = relay.client();
    REQUIRE(connect(a));
    REQUIRE(relay.process.wait_for_output("joined client 1 (127.0.0.1:", deadline()));
    {
        Sprocket b = relay.client();
        REQUIRE(connect(b));
        REQUIRE(relay.process.wait_for_output("joined client 2 (127.0.0.1:", deadline()));
    }  // b says goodbye
    REQUIRE(relay.process.wait_for_output("left client 2: closed by peer", deadline()));
    a.close();
    REQUIRE(relay.process.wait_for_output("left client 1: closed by peer", deadline()));

    // One event per line, nothing else.
    std::vector<std::string> lines;
    while (auto line = relay.process.read_line(deadline())) {
        lines.push_back(*line);
        if (lines.size() == 4) break;
    }
    REQUIRE(lines.size() == 4);
    CHECK(lines[0].rfind("joined client 1 (127.0.0.1:", 0) == 0);
    CHECK(lines[1].rfind("joined client 2 (127.0.0.1:", 0) == 0);
    CHECK(lines[2].rfind("left client 2: closed by peer", 0) == 0);
    CHECK(lines[3].rfind("left client 1: closed by peer", 0) == 0);
}

TEST_CASE("relay: SIGTERM says goodbye to every client, prints \"shutting down\" and exits 0") {
    Relay relay;
    Sprocket a = relay.client(), b = relay.client();
    REQUIRE(connect(a));
    REQUIRE(connect(b));

    REQUIRE(relay.process.signal(SIGTERM));
    for (Sprocket* client : {&a, &b}) {
        const sprocket::Event gone = next_event(*client, EventKind::disconnected);
        CHECK(gone.reason == CloseReason::server_shutdown);
        CHECK(client->status().state == sprocket::State::disconnected);
    }
    const auto status = relay.process.wait_exit(deadline());
    INFO("stdout: " << relay.process.out() << "\nstderr: " << relay.process.err());
    REQUIRE(status);
    CHECK(*status == 0);
    const std::string& out = relay.process.out();
    CHECK(out.size() >= 14);
    CHECK(out.substr(out.size() - 14) == "shutting down\n");
    CHECK(relay.process.err().empty());
}

TEST_CASE("relay: SIGINT (Ctrl-C) stops it the same way") {
    Relay relay;
    Sprocket a = relay.client();
    REQUIRE(connect(a));
    REQUIRE(relay.process.signal(SIGINT));
    CHECK(next_event(a, EventKind::disconnected).reason == CloseReason::server_shutdown);
    const auto status = relay.process.wait_exit(deadline());
    REQUIRE(status);
    CHECK(*status == 0);
    CHECK(relay.process.out().find("shutting down\n") != std::string::npos);
}

TEST_CASE("relay: bad arguments print one line on stderr and exit 2") {
    const std::vector<std::vector<std::string>> bad = {
        {"--port"},          {"--port", "abc"},         {"--port", "65536"},  {"--port", "-1"},
        {"--port", ""},      {"--max-clients", "0"},    {"--max-clients", "x"}, {"--frobnicate"},
        {"extra"},           {"--echo=yes"},            {"--app", ""},        {"--host", ""},
        // Refused by the Servo itself (longer than the 255 bytes the handshake carries).
        {"--password", std::string(300, 'p')}, {"--app", std::string(300, 'a')},
        {"--max-frame-size", "0"}, {"--max-frame-size", "64XB"}, {"--max-frame-size", "4GiB"},
        {"--max-frame-size", "MiB"}, {"--max-frame-size", "-1"}, {"--max-frame-size"},
    };
    for (const auto& args : bad) {
        ChildProcess relay(SPROCKET_RELAY_PATH, args);
        const auto status = relay.wait_exit(deadline());
        INFO("args: " << [&] {
            std::string all;
            for (const auto& a : args) all += "'" + a + "' ";
            return all;
        }() << "\nstdout: " << relay.out() << "\nstderr: " << relay.err());
        REQUIRE(status);
        CHECK(*status == 2);
        CHECK(relay.out().empty());
        CHECK(count_lines(relay.err()) == 1);
        CHECK(relay.err().rfind("sprocket-relay: ", 0) == 0);
    }
}

TEST_CASE("relay: --help prints the usage and exits 0") {
    ChildProcess relay(SPROCKET_RELAY_PATH, {"--help"});
    const auto status = relay.wait_exit(deadline());
    REQUIRE(status);
    CHECK(*status == 0);
    CHECK(relay.out().rfind("usage: sprocket-relay", 0) == 0);
    CHECK(relay.out().find("--max-frame-size BYTES") != std::string::npos);
    CHECK(relay.err().empty());
}

TEST_CASE("relay: --max-frame-size lets bigger packets through (64MiB, 4MiB, 65536: with or without a unit)") {
    sprocket::SprocketOptions big;
    big.max_frame_size = 8u << 20;
    big.max_send_queue = 32u << 20;
    const Packet two_mib{{"blob", sprocket::Bytes(2u << 20, 7)}};
    {  // The default, 1 MiB, said in the relay's welcome: the sender's send refuses it at once.
        Relay relay;
        Sprocket a = relay.client(big), b = relay.client(big);
        REQUIRE(connect(a));
        REQUIRE(connect(b));
        CHECK_THROWS_AS(a.send(two_mib), std::length_error);
        CHECK(a.connected());
        CHECK(b.get().empty());
    }
    for (const char* size : {"4MiB", "64MiB", "3000000", "4MB"}) {
        INFO("--max-frame-size " << size);
        Relay relay({"--max-frame-size", size});
        Sprocket a = relay.client(big), b = relay.client(big);
        REQUIRE(connect(a));
        REQUIRE(connect(b));
        REQUIRE(a.send(two_mib));
        const auto got = receive(b, 1);
        REQUIRE(got.size() == 1);
        CHECK(got[0] == two_mib);
    }
}

TEST_CASE("relay: a port in use is an error (exit 1), not a crash") {
    Relay first;
    ChildProcess second(SPROCKET_RELAY_PATH, {"--port", std::to_string(first.port)});
    const auto status = second.wait_exit(deadline());
    INFO("stderr: " << second.err());
    REQUIRE(status);
    CHECK(*status == 1);
    CHECK(second.err().find("cannot listen") != std::string::npos);
}

TEST_CASE("demo_echo runs on its own and exits 0") {
    ChildProcess demo(DEMO_ECHO_PATH, {});
    const auto status = demo.wait_exit(deadline());
    INFO("stdout: " << demo.out() << "\nstderr: " << demo.err());
    REQUIRE(status);
    CHECK(*status == 0);
    CHECK(demo.out().find("all 3 packets came back") != std::string::npos);
}

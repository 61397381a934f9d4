// sprocket-replay driven as a real process against a Servo or a Sprocket in this one, and the
// replay kit (tools/replay.hpp) in process. Recordings are written with chosen times.
#include "../net/raw_peer.hpp"
#include "../support/child_process.hpp"
#include "files.hpp"
#include "replay.hpp"

#include <algorithm>
#include <map>

using namespace sprocket;
using recordtest::at_ms;
using recordtest::TempFile;
using testsupport::ChildProcess;
using testsupport::count_of;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

auto deadline() { return Clock::now() + nettest::patience; }

// A client recording: welcomed at 0, then `n` packets {"i": i}, one every `gap` ms, each
// answered by the server (the answers are not replayed), then closed.
void client_recording(const std::string& path, int n, int gap_ms) {
    Recorder recorder(path, RecordRole::client, "sprocket");
    recorder.write(at_ms(0, RecordKind::joined, 1, {}, CloseReason::none, "127.0.0.1:4242"));
    for (int i = 0; i < n; ++i) {
        recorder.write(at_ms(i * gap_ms, RecordKind::sent, 1, Packet{{"i", i}}));
        recorder.write(at_ms(i * gap_ms, RecordKind::received, 1, Packet{{"answer", i}}));
    }
    recorder.write(at_ms(n * gap_ms, RecordKind::left, 1, {}, CloseReason::closed));
}

struct Arrival {
    int i = -1;
    Clock::time_point at;
};

// Replays a client recording of `n` packets through sprocket-replay with `args` into a Servo;
// every packet must arrive, in order. Returns the arrivals and how long the process ran.
std::pair<std::vector<Arrival>, Clock::duration> replay_into_server(const std::string& file, int n,
                                                                    std::vector<std::string> args) {
    Servo server(0, nettest::quick_server());
    args.insert(args.begin(), {file, "--to", "127.0.0.1:" + std::to_string(server.port())});
    const Clock::time_point start = Clock::now();
    ChildProcess replay(SPROCKET_REPLAY_PATH, args);
    std::vector<Arrival> got;
    const auto until = deadline() + std::chrono::milliseconds(n * 100);
    while (got.size() < static_cast<std::size_t>(n) && Clock::now() < until) {
        for (const Message& m : server.get(std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now())))
            got.push_back(Arrival{m.packet.get_or("i", -1), Clock::now()});
    }
    const auto code = replay.wait_exit(until);
    const Clock::duration ran = Clock::now() - start;
    INFO("stderr: " << replay.err());
    REQUIRE(code);
    CHECK(*code == 0);
    CHECK(replay.err().find("replayed " + std::to_string(n) + " packet(s)") != std::string::npos);
    REQUIRE(got.size() == static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) CHECK(got[i].i == i);
    CHECK(server.get().empty());  // the answers in the recording were not played
    return {got, ran};
}

}  // namespace

TEST_CASE("sprocket-replay: a client recording arrives whole and in order, never sooner than recorded") {
    TempFile file("paced");
    client_recording(file.path(), 20, 100);  // 1.9 s
    for (const double speed : {1.0, 4.0}) {
        INFO("speed " << speed);
        const Clock::time_point start = Clock::now();
        const auto [got, ran] = replay_into_server(file.path(), 20, {"--speed", speed == 1.0 ? "1" : "4"});
        for (int i = 0; i < 20; ++i) {
            const auto earliest = std::chrono::duration<double, std::milli>(i * 100 / speed);
            CHECK(got[i].at - start >= earliest);
        }
        CHECK(ran >= std::chrono::duration<double, std::milli>(1900 / speed));
        CHECK(ran < std::chrono::duration<double, std::milli>(1900 / speed) + nettest::patience);
    }
}

TEST_CASE("sprocket-replay: --fast plays the same recording, in order, faster than it was recorded") {
    TempFile file("fast");
    client_recording(file.path(), 20, 100);  // 1.9 s
    const auto [got, ran] = replay_into_server(file.path(), 20, {"--fast"});
    CHECK(ran < 1900ms);
}

TEST_CASE("sprocket-replay --listen: what a server sent is played to the client that joins") {
    TempFile file("server");
    {
        Recorder recorder(file.path(), RecordRole::server, "sprocket");
        recorder.write(at_ms(0, RecordKind::joined, 1, {}, CloseReason::none, "127.0.0.1:50001"));
        recorder.write(at_ms(1, RecordKind::received, 1, Packet{{"hello", true}}));
        recorder.write(at_ms(10, RecordKind::sent, 0, Packet{{"n", 0}}));
        recorder.write(at_ms(15, RecordKind::joined, 2, {}, CloseReason::none, "127.0.0.1:50002"));
        recorder.write(at_ms(20, RecordKind::sent, 1, Packet{{"n", 1}}));
        recorder.write(at_ms(25, RecordKind::sent, 2, Packet{{"n", -1}}));  // nobody stands for client 2
        recorder.write(at_ms(30, RecordKind::sent, 0, Packet::on("state", {{"n", 2}})));
        recorder.write(at_ms(40, RecordKind::sent, 1, Packet{{"n", 3}}));
        recorder.write(at_ms(50, RecordKind::left, 1, {}, CloseReason::closed_by_peer));
    }
    ChildProcess replay(SPROCKET_REPLAY_PATH, {file.path(), "--listen", "0"});
    const std::uint16_t port = testsupport::read_port(replay, "listening on 127.0.0.1:", deadline());
    REQUIRE(port != 0);
    Sprocket client("127.0.0.1", port, nettest::quick_client());
    const auto got = nettest::receive(client, 4);
    REQUIRE(got.size() == 4);
    for (int i = 0; i < 4; ++i) CHECK(got[i].get<int>("n") == i);
    CHECK(got[2].channel() == "state");
    // Then the replay ends: a goodbye, and the process exits.
    CHECK(nettest::next_event(client, EventKind::disconnected).reason == CloseReason::server_shutdown);
    const auto code = replay.wait_exit(deadline());
    INFO("stderr: " << replay.err());
    REQUIRE(code);
    CHECK(*code == 3);  // played to the end, but a packet was skipped: not "everything was played"
    CHECK(replay.err().find("replayed 4 packet(s), skipped 1") != std::string::npos);
}

TEST_CASE("replay kit: the Nth client to join a server replay stands for the Nth client recorded") {
    Recording rec;
    rec.header.role = RecordRole::server;
    rec.records = {at_ms(0, RecordKind::joined, 7), at_ms(0, RecordKind::joined, 9),
                   at_ms(5, RecordKind::sent, 9, Packet{{"to", "second"}}), at_ms(6, RecordKind::sent, 0, Packet{{"to", "all"}}),
                   at_ms(7, RecordKind::sent, 7, Packet{{"to", "first"}})};
    Servo server(0, nettest::quick_server());
    replay::ServerReplay player(replay::make_script(rec, RecordRole::server), 0);
    CHECK(player.play(server, Clock::now()) == Clock::time_point::max());  // nobody yet: nothing plays
    Sprocket first("127.0.0.1", server.port(), nettest::quick_client());
    REQUIRE(nettest::connect(first));
    Sprocket second("127.0.0.1", server.port(), nettest::quick_client());
    REQUIRE(nettest::connect(second));
    std::vector<Event> seen;
    REQUIRE(nettest::pump_until(server, seen, [](const std::vector<Event>& s) { return s.size() == 2; }));
    for (const Event& e : seen) player.on_event(e, Clock::now());
    player.play(server, Clock::now());
    CHECK(player.done());
    CHECK(player.sent() == 3);
    const auto to_first = nettest::receive(first, 2);
    REQUIRE(to_first.size() == 2);
    CHECK(to_first[0].get<std::string>("to") == "all");
    CHECK(to_first[1].get<std::string>("to") == "first");
    const auto to_second = nettest::receive(second, 2);
    REQUIRE(to_second.size() == 2);
    CHECK(to_second[0].get<std::string>("to") == "second");
    CHECK(to_second[1].get<std::string>("to") == "all");
}

TEST_CASE("sprocket-replay --as client: a server recording's clients connect again and send what it received") {
    TempFile file("clients");
    {
        Recorder recorder(file.path(), RecordRole::server, "sprocket");
        recorder.write(at_ms(0, RecordKind::joined, 1));
        recorder.write(at_ms(1, RecordKind::received, 1, Packet{{"a", 1}}));
        recorder.write(at_ms(2, RecordKind::sent, 1, Packet{{"reply", 1}}));
        recorder.write(at_ms(3, RecordKind::joined, 2));
        recorder.write(at_ms(4, RecordKind::received, 2, Packet{{"b", 1}}));
        recorder.write(at_ms(5, RecordKind::received, 1, Packet{{"a", 2}}));
        recorder.write(at_ms(6, RecordKind::left, 1, {}, CloseReason::closed_by_peer));
        recorder.write(at_ms(7, RecordKind::left, 2, {}, CloseReason::closed_by_peer));
    }
    Servo server(0, nettest::quick_server());
    ChildProcess replay(SPROCKET_REPLAY_PATH,
                        {file.path(), "--as", "client", "--to", "127.0.0.1:" + std::to_string(server.port())});
    std::vector<Event> seen;
    const auto lefts = [](const std::vector<Event>& s) {
        return std::count_if(s.begin(), s.end(), [](const Event& e) { return e.kind == EventKind::left; }) == 2;
    };
    REQUIRE(nettest::pump_until(server, seen, lefts));
    std::map<std::string, std::vector<ClientId>> from;  // key -> the clients that sent it, in order
    for (const Event& e : seen) {
        if (e.kind == EventKind::packet) from[e.packet.has("a") ? "a" : "b"].push_back(e.client);
        if (e.kind == EventKind::left) CHECK(e.reason == CloseReason::closed_by_peer);
    }
    REQUIRE(from["a"].size() == 2);
    REQUIRE(from["b"].size() == 1);
    CHECK(from["a"][0] == from["a"][1]);  // both on the first client's connection
    CHECK(from["a"][0] != from["b"][0]);
    const auto code = replay.wait_exit(deadline());
    REQUIRE(code);
    CHECK(*code == 0);
}

TEST_CASE("sprocket-replay: show prints a recording as JSON lines, and bad files and bad arguments have their exit status") {
    TempFile file("show");
    client_recording(file.path(), 2, 100);
    {
        ChildProcess show(SPROCKET_REPLAY_PATH, {"show", file.path()});
        const auto code = show.wait_exit(deadline());
        REQUIRE(code);
        CHECK(*code == 0);
        CHECK(show.out().rfind("{\"version\":1,\"role\":\"client\",\"application\":\"sprocket\",\"started\":\"", 0) == 0);
        CHECK(show.out().find("\"records\":6}\n"
                              "{\"at\":0.0,\"kind\":\"joined\",\"client\":1,\"detail\":\"127.0.0.1:4242\"}\n"
                              "{\"at\":0.0,\"kind\":\"sent\",\"client\":1,\"packet\":{\"i\":0}}\n"
                              "{\"at\":0.0,\"kind\":\"received\",\"client\":1,\"packet\":{\"answer\":0}}\n"
                              "{\"at\":0.1,\"kind\":\"sent\",\"client\":1,\"packet\":{\"i\":1}}\n"
                              "{\"at\":0.1,\"kind\":\"received\",\"client\":1,\"packet\":{\"answer\":1}}\n"
                              "{\"at\":0.2,\"kind\":\"left\",\"client\":1,\"reason\":\"closed\"}\n") != std::string::npos);
    }
    {
        std::string cut = recordtest::read_bytes(file.path());
        cut.pop_back();
        recordtest::write_bytes(file.path(), cut);
        ChildProcess show(SPROCKET_REPLAY_PATH, {"show", file.path()});
        const auto code = show.wait_exit(deadline());
        REQUIRE(code);
        CHECK(*code == 1);
        CHECK(std::count(show.out().begin(), show.out().end(), '\n') == 6);  // the header and 5 records
        CHECK(show.err().find("truncated: record 6 at byte") != std::string::npos);
    }
    const auto exit_status = [](const std::vector<std::string>& args, const std::string& says) {
        ChildProcess replay(SPROCKET_REPLAY_PATH, args);
        const auto code = replay.wait_exit(deadline());
        INFO("args: " << args.size() << " stderr: " << replay.err());
        CHECK(replay.err().find(says) != std::string::npos);
        return code.value_or(-1);
    };
    CHECK(exit_status({"/nonexistent.rec", "--to", "127.0.0.1:1"}, "cannot read: no such file") == 1);
    CHECK(exit_status({SPROCKET_REPLAY_PATH, "--listen", "0"}, "not a recording") == 1);
    CHECK(exit_status({file.path(), "--to", "127.0.0.1:" + std::to_string(nettest::closed_port())}, "connect failed") == 1);
    Servo server(0, nettest::quick_server());
    CHECK(exit_status({file.path(), "--to", "127.0.0.1:" + std::to_string(server.port()), "--app", "other"},
                      "rejected (wrong application") == 1);
    CHECK(exit_status({}, "which recording?") == 2);
    CHECK(exit_status({file.path(), "--speed", "0", "--to", "127.0.0.1:1"}, "--speed needs a number above 0") == 2);
    CHECK(exit_status({file.path(), "--fast", "--speed", "2"}, "do not go together") == 2);
    CHECK(exit_status({file.path()}, "playing a client needs --to HOST:PORT") == 2);
    CHECK(exit_status({file.path(), "--as", "server"}, "playing a server needs --listen PORT") == 2);
    CHECK(exit_status({file.path(), "--to", "127.0.0.1:1", "--listen", "0"}, "not both") == 2);
    CHECK(exit_status({file.path(), "--as", "referee"}, "--as needs client or server") == 2);
}

TEST_CASE("sprocket-replay --print: each packet shows the client the recording names") {
    TempFile file("print");
    {
        Recorder recorder(file.path(), RecordRole::client, "sprocket");
        recorder.write(at_ms(0, RecordKind::joined, 2, {}, CloseReason::none, "127.0.0.1:4242"));
        recorder.write(at_ms(1, RecordKind::sent, 2, Packet{{"i", 0}}));
        recorder.write(at_ms(1, RecordKind::received, 2, Packet{{"answer", 0}}));
        recorder.write(at_ms(2, RecordKind::left, 2, {}, CloseReason::closed));
    }
    // Played as recorded (a client, into a server) and as the other side (to a client that joins).
    Servo server(0, nettest::quick_server());
    ChildProcess replay(SPROCKET_REPLAY_PATH, {file.path(), "--print", "--fast", "--to", "127.0.0.1:" + std::to_string(server.port())});
    REQUIRE(nettest::receive(server, 1).size() == 1);
    const auto code = replay.wait_exit(deadline());
    INFO("stdout: " << replay.out() << "stderr: " << replay.err());
    REQUIRE(code);
    CHECK(*code == 0);
    CHECK(replay.out() == "{\"at\":0.001,\"kind\":\"sent\",\"client\":2,\"packet\":{\"i\":0}}\n");

    ChildProcess served(SPROCKET_REPLAY_PATH, {file.path(), "--as", "server", "--listen", "0", "--print"});
    const std::uint16_t port = testsupport::read_port(served, "listening on 127.0.0.1:", deadline());
    REQUIRE(port != 0);
    Sprocket client("127.0.0.1", port, nettest::quick_client());
    const auto got = nettest::receive(client, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].get<int>("answer") == 0);
    const auto served_code = served.wait_exit(deadline());
    INFO("stdout: " << served.out() << "stderr: " << served.err());
    REQUIRE(served_code);
    CHECK(*served_code == 0);
    CHECK(served.out().find("{\"at\":0.001,\"kind\":\"received\",\"client\":2,\"packet\":{\"answer\":0}}\n") !=
          std::string::npos);
}

TEST_CASE("sprocket-replay: a failed connection is said once, and -w waits for a server that is starting") {
    TempFile file("wait");
    client_recording(file.path(), 2, 1);
    ChildProcess nowhere(SPROCKET_REPLAY_PATH, {file.path(), "--to", "127.0.0.1:" + std::to_string(nettest::closed_port())});
    REQUIRE(nowhere.wait_exit(deadline()) == 1);
    INFO("stderr: " << nowhere.err());
    CHECK(count_of(nowhere.err(), "disconnected") == 1);
    CHECK(count_of(nowhere.err(), "connect failed (connection refused)") == 1);

    ChildProcess gives_up(SPROCKET_REPLAY_PATH,
                          {file.path(), "-w", "0.3", "--to", "127.0.0.1:" + std::to_string(nettest::closed_port())});
    REQUIRE(gives_up.wait_exit(deadline()) == 1);
    CHECK(count_of(gives_up.err(), "disconnected: connect failed") == 1);

    // The server starts after the replay did: its first tries are refused, quietly.
    const std::uint16_t port = nettest::closed_port();
    ChildProcess waits(SPROCKET_REPLAY_PATH, {file.path(), "-w", "60", "--fast", "--to", "127.0.0.1:" + std::to_string(port)});
    Servo server(port, nettest::quick_server());
    const auto got = nettest::receive(server, 2);
    const auto code = waits.wait_exit(deadline());
    INFO("stderr: " << waits.err());
    REQUIRE(code);
    CHECK(*code == 0);
    CHECK(waits.err().find("disconnected") == std::string::npos);
    CHECK(got.size() == 2);
    ChildProcess bad(SPROCKET_REPLAY_PATH, {file.path(), "-w", "soon", "--to", "127.0.0.1:1"});
    CHECK(bad.wait_exit(deadline()) == 2);
    CHECK(bad.err().find("-w needs a number of seconds, got 'soon'") != std::string::npos);
    ChildProcess listening(SPROCKET_REPLAY_PATH, {file.path(), "--as", "server", "-w", "1", "--listen", "0"});
    CHECK(listening.wait_exit(deadline()) == 2);
    CHECK(listening.err().find("-w goes with --to") != std::string::npos);
}

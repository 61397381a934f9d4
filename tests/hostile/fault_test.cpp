// Faults: processes killed outright (SIGKILL), on either side of a connection.
#include "../net/helpers.hpp"
#include "../support/child_process.hpp"

#include "server.hpp"

#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <memory>

using namespace nettest;
using testsupport::ChildProcess;
using sprocket::EventKind;

namespace {

auto deadline() { return Clock::now() + patience; }

// A sprocket-relay child listening on `port` (0: any); returns the port it took.
std::unique_ptr<ChildProcess> start_relay(std::uint16_t& port) {
    auto relay = std::make_unique<ChildProcess>(SPROCKET_RELAY_PATH, std::vector<std::string>{"--port", std::to_string(port)});
    port = testsupport::read_port(*relay, "listening on 127.0.0.1:", deadline());
    INFO("relay: " << relay->out() << relay->err());
    REQUIRE(port != 0);
    return relay;
}

}  // namespace

TEST_CASE("the server is killed (SIGKILL): clients see it within the timeout, then come back to a new one") {
    std::uint16_t port = 0;
    auto relay = start_relay(port);
    auto options = quick_client();
    options.heartbeat_interval = 100ms;
    options.timeout = 1s;
    options.reconnect = true;
    options.reconnect_delay = 50ms;
    options.reconnect_max_delay = 200ms;
    std::vector<std::unique_ptr<sprocket::Sprocket>> clients;
    for (int i = 0; i < 3; ++i) clients.push_back(std::make_unique<sprocket::Sprocket>("127.0.0.1", port, options));
    for (auto& c : clients) REQUIRE(c->wait_connected(patience));

    const auto killed = Clock::now();
    REQUIRE(relay->signal(SIGKILL));
    REQUIRE(relay->wait_exit(deadline()));
    for (auto& c : clients) {
        std::vector<sprocket::Event> seen;
        REQUIRE(pump_until(*c, seen, [](const auto& s) {
            return std::any_of(s.begin(), s.end(), [](const sprocket::Event& e) { return e.kind == EventKind::reconnecting; });
        }));
        CHECK(Clock::now() - killed < options.timeout + 500ms);
    }

    // A new server on the same port: everyone is back, and packets flow again.
    auto again = start_relay(port);
    for (auto& c : clients) REQUIRE(c->wait_connected(patience));
    REQUIRE(clients[0]->send({{"back", true}}));
    for (std::size_t i = 1; i < clients.size(); ++i) {
        const auto got = receive(*clients[i], 1);
        REQUIRE(got.size() == 1);
        CHECK(got[0].get<bool>("back"));
    }
}

TEST_CASE("a client process is killed mid-stream: the server reports the leave and frees everything") {
    // The demo game's server here, one of its bots in a child process: it streams an input
    // packet every tick once it sees its ship.
    arena::Server server(0);
    ChildProcess bot(ARENA_PATH, {"bots", "1", "127.0.0.1:" + std::to_string(server.port())});
    const auto play_until = [&](const auto& done) {
        const auto end = deadline();
        while (!done()) {
            if (Clock::now() > end) return false;
            server.wait(std::min(server.update(Clock::now()), Clock::now() + 10ms));
        }
        return true;
    };
    REQUIRE(play_until([&] {
        const auto& players = server.world().players();
        return players.size() == 1 && players.begin()->second.last_input >= 20;
    }));
    REQUIRE(bot.signal(SIGKILL));
    std::vector<std::string> log;
    REQUIRE(play_until([&] {
        for (auto& line : server.take_log()) log.push_back(line);
        return server.world().players().empty();
    }));
    CHECK(std::any_of(log.begin(), log.end(), [](const std::string& l) { return l.find(" left") != std::string::npos; }));
    CHECK(play_until([&] {
        const auto s = server.servo().stats();
        return s.clients == 0 && s.pending == 0 && s.buffered == 0;
    }));
}

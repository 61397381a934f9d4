// The demo game records a match with --record and plays it again with `replay`.
#include "../support/child_process.hpp"
#include "files.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>

using namespace sprocket;
using testsupport::ChildProcess;
using Clock = std::chrono::steady_clock;

TEST_CASE("sprocket-arena: a match recorded with --record plays again to a watcher, every state of it") {
    recordtest::TempFile file("arena");
    {
        ChildProcess game(ARENA_PATH, {"play", "--headless", "--seconds", "2", "--record", file.path()});
        const auto code = game.wait_exit(Clock::now() + std::chrono::seconds(60));
        INFO("stdout: " << game.out() << "\nstderr: " << game.err());
        REQUIRE(code);
        REQUIRE(*code == 0);
    }
    const Recording rec = read_recording(file.path());
    CHECK_FALSE(rec.error);
    CHECK(rec.header.role == RecordRole::server);
    CHECK(rec.header.application == "sprocket-arena");
    const auto count = [&](RecordKind kind, const std::string& channel) {
        return std::count_if(rec.records.begin(), rec.records.end(), [&](const Record& r) {
            return r.kind == kind && (channel.empty() || r.packet.channel() == channel);
        });
    };
    const auto states = count(RecordKind::sent, "state");
    CHECK(states >= 20);                                   // 30 a second, once the first bot is in
    CHECK(count(RecordKind::joined, "") == 3);             // the three bots
    CHECK(count(RecordKind::received, "input") >= 20);     // their keys

    ChildProcess replay(ARENA_PATH, {"replay", file.path(), "--headless", "--speed", "10"});
    const auto code = replay.wait_exit(Clock::now() + std::chrono::seconds(60));
    INFO("stdout: " << replay.out() << "\nstderr: " << replay.err());
    REQUIRE(code);
    CHECK(*code == 0);
    CHECK(replay.out().find("replaying " + file.path() + " (server recording") != std::string::npos);
    CHECK(replay.out().find("the watcher saw " + std::to_string(states) + " of " + std::to_string(states) + " states") !=
          std::string::npos);
    CHECK(replay.out().find("Zippy bot") != std::string::npos);  // the scoreboard, with the recorded names
}

namespace {

// Unsets an environment variable for one test (the children it starts inherit it), and puts
// it back.
class NoEnv {
public:
    explicit NoEnv(const char* name) : name_(name) {
        if (const char* value = std::getenv(name)) saved_ = value;
        ::unsetenv(name);
    }
    ~NoEnv() {
        if (saved_) ::setenv(name_, saved_->c_str(), 1);
    }
    NoEnv(const NoEnv&) = delete;
    NoEnv& operator=(const NoEnv&) = delete;

private:
    const char* name_;
    std::optional<std::string> saved_;
};

}  // namespace

TEST_CASE("sprocket-arena without a display: the advice to join from another machine is true") {
    NoEnv display("DISPLAY"), wayland("WAYLAND_DISPLAY");
    {  // The default, 127.0.0.1: no other machine can join this one; it says how to start one that can.
        ChildProcess game(ARENA_PATH, {"play", "--seconds", "1"});
        const auto code = game.wait_exit(Clock::now() + std::chrono::seconds(60));
        INFO("stdout: " << game.out() << "\nstderr: " << game.err());
        REQUIRE(code);
        CHECK(*code == 0);
        CHECK(game.out().find("arena server listening on 127.0.0.1:") != std::string::npos);
        CHECK(game.out().find("No display") != std::string::npos);
        CHECK(game.out().find("` from a machine with one") == std::string::npos);  // join this server: not from there
        CHECK(game.out().find("`sprocket-arena play --listen 0.0.0.0 --port 4242` here") != std::string::npos);
        CHECK(game.out().find("`sprocket-arena join <this machine's address>:4242` there") != std::string::npos);
    }
    {  // Listening on every interface: then joining from another machine works as said.
        ChildProcess game(ARENA_PATH, {"play", "--seconds", "1", "--listen", "0.0.0.0"});
        const auto code = game.wait_exit(Clock::now() + std::chrono::seconds(60));
        INFO("stdout: " << game.out() << "\nstderr: " << game.err());
        REQUIRE(code);
        CHECK(*code == 0);
        const std::string prefix = "arena server listening on 0.0.0.0:";
        const auto at = game.out().find(prefix);
        REQUIRE(at != std::string::npos);
        const std::string port = game.out().substr(at + prefix.size(), game.out().find('\n', at) - at - prefix.size());
        CHECK(game.out().find("`sprocket-arena join <this machine's address>:" + port + "` from a machine with one") !=
              std::string::npos);
    }
}

// The demo game records a match with --record and plays it again with `replay`.
#include "../support/child_process.hpp"
#include "files.hpp"

#include <doctest/doctest.h>

#include <algorithm>

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

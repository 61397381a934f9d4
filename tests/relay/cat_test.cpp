// sprocket-cat: JSON lines in and out, against sprocket-relay --echo; and the JSON mapping itself.
#include "../net/raw_peer.hpp"
#include "../support/child_process.hpp"
#include "json_packet.hpp"

#include <csignal>

using testsupport::ChildProcess;
using testsupport::count_of;
using namespace sprocket;

namespace {

auto deadline() { return ChildProcess::Clock::now() + nettest::patience; }

}  // namespace

TEST_CASE("json: every value type maps both ways") {
    Packet p = Packet::on("chat", {{"n", -3}, {"r", 2.5}, {"s", "héllo"}, {"t", true}, {"z", nullptr},
                                   {"b", Bytes{0, 1, 2, 255}}, {"l", List{1, "a", List{}}}, {"m", Value{{"k", 1}}}});
    p["o"] = Object{Bytes{9, 8, 7}};
    const std::string line = cat::packet_to_json(p);
    CHECK(line.find("\"$channel\":\"chat\"") != std::string::npos);
    CHECK(line.find("{\"$bytes\":\"AAEC/w==\"}") != std::string::npos);
    CHECK(cat::packet_from_json(line) == p);
}

TEST_CASE("json: bad lines are typed errors, never crashes") {
    for (const char* bad : {"", "not json", "[1,2]", "{\"a\":", "{\"x\": {\"$bytes\": \"A\"}}",
                            "{\"x\": {\"$bytes\": 3}}", "{\"$channel\": 5}", "{\"u\": 18446744073709551615}",
                            "{\"x\": {\"$bytes\": \"AA=A\"}}"}) {
        INFO(bad);
        CHECK_THROWS_AS(cat::packet_from_json(bad), cat::JsonError);
    }
    std::string deep = "{\"d\":";
    for (int i = 0; i < 100'000; ++i) deep += '[';
    CHECK_THROWS_AS(cat::packet_from_json(deep), cat::JsonError);
    // Invalid UTF-8 from the wire is replaced, not an error.
    CHECK_NOTHROW(cat::packet_to_json(Packet{{"s", std::string("\xff\xfe")}}));
}

TEST_CASE("json: base64 round trips at every length") {
    Bytes bytes;
    for (int n = 0; n < 10; ++n) {
        CHECK(cat::base64_decode(cat::base64_encode(bytes)) == bytes);
        bytes.push_back(static_cast<std::uint8_t>(n * 37));
    }
}

TEST_CASE("sprocket-cat: lines in become packets, packets out become lines, and bad lines are skipped") {
    ChildProcess relay(SPROCKET_RELAY_PATH, {"--port", "0", "--echo"});
    const std::uint16_t port = testsupport::read_port(relay, "listening on 127.0.0.1:", deadline());
    REQUIRE(port != 0);
    ChildProcess cat(SPROCKET_CAT_PATH, {"127.0.0.1:" + std::to_string(port)}, true);
    REQUIRE(cat.write_input("{\"$channel\": \"chat\", \"text\": \"hi\"}\nthis is not json\n{\"n\": 2}\n"));
    CHECK(cat.wait_for_output("{\"$channel\":\"chat\",\"text\":\"hi\"}\n{\"n\":2}\n", deadline()));
    REQUIRE(cat.signal(SIGTERM));
    const auto code = cat.wait_exit(deadline());
    REQUIRE(code);
    CHECK(*code == 0);
    INFO("stderr: " << cat.err());
    CHECK(cat.err().find("sprocket-cat: line 2: malformed JSON") != std::string::npos);
}

TEST_CASE("sprocket-cat: -q quits after stdin ends, and a server that is not there is exit status 1") {
    ChildProcess relay(SPROCKET_RELAY_PATH, {"--port", "0", "--echo"});
    const std::uint16_t port = testsupport::read_port(relay, "listening on 127.0.0.1:", deadline());
    REQUIRE(port != 0);
    ChildProcess cat(SPROCKET_CAT_PATH, {"-q", "3", "127.0.0.1:" + std::to_string(port)}, true);
    REQUIRE(cat.write_input("{\"last\": true}\n"));
    cat.close_input();
    const auto code = cat.wait_exit(deadline());
    REQUIRE(code);
    CHECK(*code == 0);
    CHECK(cat.out() == "{\"last\":true}\n");

    ChildProcess nowhere(SPROCKET_CAT_PATH, {"127.0.0.1:" + std::to_string(nettest::closed_port())});
    const auto failed = nowhere.wait_exit(deadline());
    REQUIRE(failed);
    CHECK(*failed == 1);
    CHECK(nowhere.err().find("connect failed") != std::string::npos);
}

TEST_CASE("sprocket-cat: -q takes fractional seconds, and HOST PORT works like HOST:PORT (netcat style)") {
    ChildProcess relay(SPROCKET_RELAY_PATH, {"--port", "0", "--echo"});
    const std::uint16_t port = testsupport::read_port(relay, "listening on 127.0.0.1:", deadline());
    REQUIRE(port != 0);
    ChildProcess cat(SPROCKET_CAT_PATH, {"-q", "0.5", "127.0.0.1", std::to_string(port)}, true);
    REQUIRE(cat.write_input("{\"half\": 0.5}\n"));
    cat.close_input();
    const auto code = cat.wait_exit(deadline());
    INFO("stderr: " << cat.err());
    REQUIRE(code);
    CHECK(*code == 0);
    CHECK(cat.out() == "{\"half\":0.5}\n");

    // A third address part, or a port given twice, is still refused.
    ChildProcess twice(SPROCKET_CAT_PATH, {"127.0.0.1:" + std::to_string(port), "4242"});
    CHECK(twice.wait_exit(deadline()) == 2);
    CHECK(twice.err().find("unexpected '4242'") != std::string::npos);
    ChildProcess bad(SPROCKET_CAT_PATH, {"-q", "soon", "127.0.0.1", std::to_string(port)});
    CHECK(bad.wait_exit(deadline()) == 2);
    CHECK(bad.err().find("-q needs a number of seconds, got 'soon'") != std::string::npos);
}

TEST_CASE("sprocket-cat: a lost connection is said once on stderr") {
    ChildProcess nowhere(SPROCKET_CAT_PATH, {"127.0.0.1:" + std::to_string(nettest::closed_port())});
    REQUIRE(nowhere.wait_exit(deadline()) == 1);
    INFO("stderr: " << nowhere.err());
    CHECK(count_of(nowhere.err(), "disconnected") == 1);
    CHECK(count_of(nowhere.err(), "connect failed (connection refused)") == 1);

    // Connected, then the server goes away.
    ChildProcess relay(SPROCKET_RELAY_PATH, {"--port", "0", "--echo"});
    const std::uint16_t port = testsupport::read_port(relay, "listening on 127.0.0.1:", deadline());
    REQUIRE(port != 0);
    ChildProcess cat(SPROCKET_CAT_PATH, {"127.0.0.1:" + std::to_string(port)}, true);
    REQUIRE(cat.write_input("{\"n\": 1}\n"));
    REQUIRE(cat.wait_for_output("{\"n\":1}\n", deadline()));
    REQUIRE(relay.signal(SIGTERM));
    REQUIRE(relay.wait_exit(deadline()) == 0);
    const auto code = cat.wait_exit(deadline());
    INFO("stderr: " << cat.err());
    REQUIRE(code);
    CHECK(*code == 1);
    CHECK(count_of(cat.err(), "disconnected") == 1);
    CHECK(count_of(cat.err(), "server shutdown") == 1);
}

TEST_CASE("sprocket-cat -w: waits for a server that is not listening yet, then sends what it read") {
    const std::uint16_t port = nettest::closed_port();
    ChildProcess cat(SPROCKET_CAT_PATH, {"-w", "60", "127.0.0.1:" + std::to_string(port)}, true);
    REQUIRE(cat.write_input("{\"early\": true}\n"));
    // The relay starts after cat did: cat's first tries are refused.
    ChildProcess relay(SPROCKET_RELAY_PATH, {"--port", std::to_string(port), "--echo"});
    REQUIRE(testsupport::read_port(relay, "listening on 127.0.0.1:", deadline()) == port);
    REQUIRE(cat.wait_for_output("{\"early\":true}\n", deadline()));  // sent once connected, echoed
    REQUIRE(cat.signal(SIGINT));
    const auto code = cat.wait_exit(deadline());
    INFO("stderr: " << cat.err());
    REQUIRE(code);
    CHECK(*code == 0);
    CHECK(cat.out() == "{\"early\":true}\n");
    CHECK(cat.err().find("disconnected") == std::string::npos);  // the refused tries are quiet

    // Without a server, -w gives up after about that long, and says so once.
    ChildProcess gives_up(SPROCKET_CAT_PATH, {"-w", "0.3", "127.0.0.1:" + std::to_string(nettest::closed_port())});
    REQUIRE(gives_up.wait_exit(deadline()) == 1);
    CHECK(count_of(gives_up.err(), "disconnected: connect failed") == 1);
}

TEST_CASE("sprocket-cat -w: a server that goes away after the connection ends cat at once, as without -w") {
    ChildProcess relay(SPROCKET_RELAY_PATH, {"--port", "0", "--echo"});
    const std::uint16_t port = testsupport::read_port(relay, "listening on 127.0.0.1:", deadline());
    REQUIRE(port != 0);
    ChildProcess cat(SPROCKET_CAT_PATH, {"-w", "30", "127.0.0.1:" + std::to_string(port)}, true);
    REQUIRE(cat.write_input("{\"n\": 1}\n"));
    REQUIRE(cat.wait_for_output("{\"n\":1}\n", deadline()));
    REQUIRE(relay.signal(SIGTERM));
    REQUIRE(relay.wait_exit(deadline()) == 0);
    const auto code = cat.wait_exit(deadline());  // 10 s; without -w it exits within milliseconds
    INFO("stderr: " << cat.err());
    REQUIRE(code);
    CHECK(*code == 1);
    CHECK(count_of(cat.err(), "disconnected") == 1);
    CHECK(count_of(cat.err(), "server shutdown") == 1);
}

// Endpoints that record (ConnectionOptions::record, SPROCKET_RECORD), on 127.0.0.1.
#include "../net/helpers.hpp"
#include "files.hpp"

#include <cstdlib>
#include <system_error>

using namespace sprocket;
using recordtest::TempFile;

namespace {

// The kinds of a recording's records, in order: "joined sent sent received left".
std::string kinds(const Recording& rec) {
    std::string out;
    for (const Record& r : rec.records) out += std::string(out.empty() ? "" : " ") + to_string(r.kind);
    return out;
}

void check_times_never_go_back(const Recording& rec) {
    for (std::size_t i = 1; i < rec.records.size(); ++i) CHECK(rec.records[i].at >= rec.records[i - 1].at);
}

}  // namespace

TEST_CASE("a Sprocket and a Servo with record set write what they sent and received, in order") {
    TempFile client_file("client"), server_file("server");
    std::uint16_t port = 0;
    {
        auto server_options = nettest::quick_server();
        server_options.record = server_file.path();
        Servo server(0, server_options);
        port = server.port();
        auto client_options = nettest::quick_client();
        client_options.record = client_file.path();
        Sprocket client("127.0.0.1", port, client_options);
        REQUIRE(nettest::connect(client));
        for (int i = 0; i < 3; ++i) REQUIRE(client.send({{"i", i}}));
        const auto got = nettest::receive(server, 3);
        REQUIRE(got.size() == 3);
        for (const Message& m : got) REQUIRE(server.send(m.client, m.packet));  // echo
        REQUIRE(server.sendall(Packet::on("state", {{"tick", 1}})) == 1);
        REQUIRE(nettest::receive(client, 4).size() == 4);
        CHECK(client.recording().path == client_file.path());
        CHECK(client.recording().error.empty());
        client.close();
        CHECK(nettest::next_event(server, EventKind::left).kind == EventKind::left);
        CHECK(server.recording().records == 9);
        CHECK(client.recording().records == 9);
    }

    const Recording client_rec = read_recording(client_file.path());
    CHECK_FALSE(client_rec.error);
    CHECK(client_rec.header.role == RecordRole::client);
    CHECK(client_rec.header.application == "sprocket");
    CHECK(kinds(client_rec) == "joined sent sent sent received received received received left");
    check_times_never_go_back(client_rec);
    const auto& c = client_rec.records;
    CHECK(c[0].client == 1);
    CHECK(c[0].detail == "127.0.0.1:" + std::to_string(port));
    for (int i = 0; i < 3; ++i) {
        CHECK(c[1 + i].packet == Packet{{"i", i}});
        CHECK(c[4 + i].packet == Packet{{"i", i}});
    }
    CHECK(c[7].packet == Packet::on("state", {{"tick", 1}}));
    CHECK(c[8].reason == CloseReason::closed);
    for (const Record& r : c) CHECK(r.client == 1);

    const Recording server_rec = read_recording(server_file.path());
    CHECK_FALSE(server_rec.error);
    CHECK(server_rec.header.role == RecordRole::server);
    CHECK(kinds(server_rec) == "joined received received received sent sent sent sent left");
    check_times_never_go_back(server_rec);
    const auto& s = server_rec.records;
    CHECK(s[0].detail.rfind("127.0.0.1:", 0) == 0);
    for (int i = 0; i < 3; ++i) {
        CHECK(s[1 + i].packet == Packet{{"i", i}});
        CHECK(s[4 + i].packet == Packet{{"i", i}});
        CHECK(s[4 + i].client == 1);
    }
    CHECK(s[7].client == 0);  // sendall: every client
    CHECK(s[7].packet.channel() == "state");
    CHECK(s[8].client == 1);
    CHECK(s[8].reason == CloseReason::closed_by_peer);
}

TEST_CASE("sendall_except records one sent per client it went to, and a refused send is not recorded") {
    TempFile file("except");
    {
        auto options = nettest::quick_server();
        options.record = file.path();
        Servo server(0, options);
        Sprocket a("127.0.0.1", server.port(), nettest::quick_client());
        REQUIRE(nettest::connect(a));
        Sprocket b("127.0.0.1", server.port(), nettest::quick_client());
        REQUIRE(nettest::connect(b));
        Sprocket c("127.0.0.1", server.port(), nettest::quick_client());
        REQUIRE(nettest::connect(c));
        REQUIRE(nettest::until_clients(server, 3));
        CHECK(server.sendall_except(b.id(), Packet{{"n", 1}}) == 2);
        CHECK_FALSE(server.send(99, Packet{{"n", 2}}));
        REQUIRE(nettest::receive(a, 1).size() == 1);
        REQUIRE(nettest::receive(c, 1).size() == 1);
    }
    const Recording rec = read_recording(file.path());
    std::vector<ClientId> to;
    for (const Record& r : rec.records) {
        if (r.kind == RecordKind::sent) to.push_back(r.client);
    }
    CHECK(to == std::vector<ClientId>{1, 3});
}

TEST_CASE("SPROCKET_RECORD records every endpoint of a process: the first to FILE, the Nth to FILE.N") {
    TempFile file("env"), own("own");
    REQUIRE(::setenv("SPROCKET_RECORD", file.path().c_str(), 1) == 0);
    struct Unset {
        ~Unset() { ::unsetenv("SPROCKET_RECORD"); }
    } unset;
    {
        Servo server(0, nettest::quick_server());
        Sprocket a("127.0.0.1", server.port(), nettest::quick_client());
        Sprocket b("127.0.0.1", server.port(), nettest::quick_client());
        auto explicit_options = nettest::quick_client();
        explicit_options.record = own.path();  // the option wins over the variable
        Sprocket c("127.0.0.1", server.port(), explicit_options);
        CHECK(server.recording().path == file.path());
        CHECK(a.recording().path == file.path() + ".2");
        CHECK(b.recording().path == file.path() + ".3");
        CHECK(c.recording().path == own.path());
        REQUIRE(nettest::connect(a));
        REQUIRE(a.send({{"from", "a"}}));
        REQUIRE(nettest::receive(server, 1).size() == 1);
    }
    CHECK(read_recording(file.path()).header.role == RecordRole::server);
    const Recording a = read_recording(file.path() + ".2");
    CHECK(a.header.role == RecordRole::client);
    CHECK(kinds(a).rfind("joined sent", 0) == 0);
    CHECK(read_recording(file.path() + ".3").header.role == RecordRole::client);
    CHECK(read_recording(own.path()).header.role == RecordRole::client);
}

TEST_CASE("an endpoint whose recording cannot be created throws std::system_error, and without one it records nothing") {
    auto client_options = nettest::quick_client();
    client_options.record = "/nonexistent/dir/client.rec";
    CHECK_THROWS_AS(Sprocket("127.0.0.1", 4242, client_options), std::system_error);
    ServoOptions server_options;
    server_options.record = "/nonexistent/dir/server.rec";
    CHECK_THROWS_AS(Servo(0, server_options), std::system_error);

    Servo server(0, nettest::quick_server());
    Sprocket client("127.0.0.1", server.port(), nettest::quick_client());
    REQUIRE(nettest::connect(client));
    CHECK(client.send({{"x", 1}}));
    CHECK(server.recording().path.empty());
    CHECK(server.recording().records == 0);
    CHECK(client.recording().path.empty());
}

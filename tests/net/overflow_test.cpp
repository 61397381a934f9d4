// Bounded queues: a peer that stops reading is disconnected instead of growing memory; a game
// that stops reading pauses the socket and loses nothing.
#include "raw_peer.hpp"

#include <sprocket/codec.hpp>
#include <sprocket/detail/outbox.hpp>

#include <algorithm>
#include <vector>

#include <poll.h>
#include <sys/socket.h>

using namespace nettest;
using sprocket::CloseReason;
using sprocket::EventKind;
using sprocket::Packet;

TEST_CASE("a client that never reads is disconnected for overflow while the others keep receiving") {
    auto options = quick_server();
    options.max_send_queue = 256 << 10;
    options.timeout = 60s;  // the silent peer must be dropped for overflow, not for silence
    sprocket::Servo server(0, options);
    sprocket::Sprocket reader("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(reader));
    RawPeer stuck;  // joins, then never reads a byte
    REQUIRE(stuck.connect(server.port()));
    REQUIRE(stuck.join() != 0);
    REQUIRE(until_clients(server, 2));

    // In lockstep: a batch goes to both clients, the reader takes all of it, and so on. The
    // stuck client's queue grows by a batch each round (after the kernel's buffers fill up).
    const Packet chunk{{"data", std::string(10'000, 'x')}};
    const auto deadline = Clock::now() + patience;
    bool overflowed = false;
    while (!overflowed && Clock::now() < deadline) {
        std::size_t batch = 0;
        for (int i = 0; i < 10; ++i) batch += server.sendall(chunk) > 0;
        REQUIRE(receive(reader, batch).size() == batch);
        for (auto& e : server.poll()) {
            if (e.kind == EventKind::left) {
                CHECK(e.reason == CloseReason::queue_overflow);
                CHECK(e.detail.rfind("send queue overflow", 0) == 0);
                overflowed = true;
            }
        }
    }
    REQUIRE(overflowed);
    CHECK(server.clients().size() == 1);
    CHECK(reader.connected());
}

TEST_CASE("a client dropped for not reading is told why once it reads again") {
    auto options = quick_server();
    options.max_send_queue = 256 << 10;
    options.linger = 5s;  // the goodbye waits for the client this long: slack for a busy machine
    sprocket::Servo server(0, options);
    auto client_options = quick_client();
    client_options.max_receive_queue = 64 << 10;  // its I/O thread stops reading soon
    sprocket::Sprocket client("127.0.0.1", server.port(), client_options);
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));
    const sprocket::ClientId id = server.clients().at(0).id;

    // The client's game does not call get(): its I/O thread stops reading, the kernel's buffers
    // fill up, then the server's send queue overflows while a frame is half written.
    const Packet chunk{{"data", std::string(10'000, 'x')}};
    bool left = false;
    const auto deadline = Clock::now() + patience;
    while (!left && Clock::now() < deadline) {
        for (int i = 0; i < 10; ++i) server.send(id, chunk);
        for (auto& e : server.poll()) {
            if (e.kind != EventKind::left) continue;
            CHECK(e.reason == CloseReason::queue_overflow);
            left = true;
        }
        if (!left) server.wait(2ms);  // bounded: lets the I/O thread write what the socket takes
    }
    REQUIRE(left);

    // Now it reads again: what was on its way, then the goodbye, not a bare end of the stream.
    std::vector<sprocket::Event> seen;
    REQUIRE(pump_until(client, seen, last_is(EventKind::disconnected)));
    const auto packets = std::count_if(seen.begin(), seen.end(), [](const auto& e) { return e.kind == EventKind::packet; });
    INFO(packets << " packets, then " << seen.back().detail);
    CHECK(packets > 0);
    CHECK(seen.back().reason == CloseReason::queue_overflow);
    CHECK(seen.back().detail.rfind("send queue overflow", 0) == 0);
}

TEST_CASE("an overflow's goodbye follows the rest of a frame a direct write began, and nothing else") {
    RawListener listener;
    RawPeer sender;
    REQUIRE(sender.connect(listener.port()));
    RawPeer receiver;  // reads only to make a little room
    REQUIRE(receiver.accept(listener.listener));
    const int small = 8 << 10;
    ::setsockopt(sender.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    // Fill the connection up, then let a little go: the socket takes part of a frame, not all.
    const sprocket::Bytes filler(64 << 10, 1);
    std::size_t filled = 0;
    for (std::size_t n = 1; n > 0;) filled += n = sprocket::detail::send_now(sender.fd(), filler.data(), filler.size());
    std::uint8_t buffer[64 << 10];
    for (std::size_t drained = 0; drained < std::min<std::size_t>(filled, 256 << 10);) {
        std::size_t got = 0;
        REQUIRE(receiver.socket().receive(buffer, sizeof buffer, got) == sf::Socket::Done);
        drained += got;
    }
    pollfd room{sender.fd(), POLLOUT, 0};
    REQUIRE(::poll(&room, 1, static_cast<int>(patience.count())) == 1);

    sprocket::detail::Outbox box(1 << 20, 1 << 20);
    box.allow_direct(sender.fd());
    const Packet packet{{"data", std::string(60'000, 'x')}};
    sprocket::Bytes frame;
    sprocket::append_packet_frame(frame, packet);
    std::size_t written = 0;
    REQUIRE(box.push_packet(packet, nullptr, &written) == sprocket::detail::Outbox::Push::queued);
    INFO("the socket took " << written << " of " << frame.size() << " bytes");
    REQUIRE(written > 0);
    REQUIRE(written < frame.size());
    REQUIRE(box.push_packet(packet) == sprocket::detail::Outbox::Push::queued);  // queued behind it

    sprocket::Bytes goodbye;
    sprocket::detail::append_goodbye(goodbye, {CloseReason::queue_overflow, "send queue overflow"});
    box.drop_queued(0, goodbye, false);
    CHECK(box.unsent() == frame.size() - written + goodbye.size());
    CHECK(box.push_packet(packet) == sprocket::detail::Outbox::Push::closed);
    sprocket::Bytes out;
    std::size_t cut = 0;
    box.take(out, false, &cut);
    CHECK(cut == frame.size() - written);
    sprocket::Bytes expected(frame.begin() + static_cast<std::ptrdiff_t>(written), frame.end());
    expected.insert(expected.end(), goodbye.begin(), goodbye.end());
    CHECK(out == expected);
}

TEST_CASE("a server whose game stops calling get() pauses reading and loses nothing") {
    auto options = quick_server();
    options.max_receive_queue = 64 << 10;
    sprocket::Servo server(0, options);
    auto client_options = quick_client();
    client_options.max_send_queue = 64 << 20;
    sprocket::Sprocket client("127.0.0.1", server.port(), client_options);
    REQUIRE(connect(client));
    constexpr int count = 20'000;  // ~20 MB: far more than the receive budget
    const Packet chunk{{"data", std::string(1000, 'x')}};
    for (int i = 0; i < count; ++i) {
        Packet p = chunk;
        p["seq"] = i;
        REQUIRE(client.send(p));
    }
    // The server's game now drains; everything arrives, in order.
    const auto messages = receive(server, count);
    REQUIRE(messages.size() == count);
    for (int i = 0; i < count; ++i) {
        if (messages[static_cast<std::size_t>(i)].packet.get<int>("seq") != i) FAIL("out of order at " << i);
    }
    CHECK(client.connected());
}

TEST_CASE("a client whose server never reads overflows its own queue and says so") {
    RawListener listener;
    auto options = quick_client();
    options.max_send_queue = 128 << 10;
    options.timeout = 60s;
    sprocket::Sprocket client("127.0.0.1", listener.port(), options);
    RawPeer server;
    welcome(server, listener, 1);
    REQUIRE(connect(client));
    const Packet chunk{{"data", std::string(1000, 'x')}};
    bool refused = false;
    for (int i = 0; i < 1'000'000 && !refused; ++i) refused = !client.send(chunk);
    CHECK(refused);
    const auto gone = next_event(client, EventKind::disconnected);
    CHECK(gone.reason == CloseReason::queue_overflow);
}

TEST_CASE("a peer that floods pings and never reads the pongs is disconnected, not fed forever") {
    auto options = quick_server();
    options.max_send_queue = 64 << 10;
    options.timeout = 60s;
    sprocket::Servo server(0, options);
    RawPeer flooder;
    REQUIRE(flooder.connect(server.port()));
    REQUIRE(flooder.join() != 0);
    // An endless stream of identical 13-byte pings: resuming a partial send at (sent % 13)
    // keeps the stream whole.
    sprocket::Bytes pings;
    for (int i = 0; i < 20'000; ++i) sprocket::detail::append_ping(pings, sprocket::FrameKind::ping, 1);
    const std::size_t frame = pings.size() / 20'000;
    flooder.socket().setBlocking(false);
    std::vector<sprocket::Event> seen;
    const auto left = [&] {
        for (const auto& e : seen) if (e.kind == EventKind::left) return true;
        return false;
    };
    std::size_t sent = 0;
    const auto deadline = Clock::now() + patience;
    while (!left() && Clock::now() < deadline) {
        const std::size_t at = sent % frame;
        std::size_t n = 0;
        flooder.socket().send(pings.data() + at, pings.size() - at, n);  // what the kernel takes
        sent += n;
        for (auto& e : server.poll()) seen.push_back(std::move(e));
        if (!left()) server.wait(10ms);  // bounded: lets the server read and answer
    }
    INFO("sent " << sent << " bytes of pings");
    REQUIRE(left());
    CHECK(seen.back().reason == CloseReason::queue_overflow);
}

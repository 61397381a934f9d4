// Volume: 100,000 packets in order, sendall to many clients, 200 clients on one I/O thread.
#include "helpers.hpp"

#include <sprocket/codec.hpp>
#include <sprocket/detail/reactor.hpp>

#include <dirent.h>
#include <memory>
#include <thread>

using namespace nettest;
using sprocket::Packet;

#if defined(__SANITIZE_THREAD__)
#define THREAD_SANITIZER 1  // its runtime starts a background thread of its own, at any time
#else
#define THREAD_SANITIZER 0
#endif

namespace {

// Threads of this process, from /proc/self/task.
int thread_count() {
    int n = 0;
    DIR* dir = ::opendir("/proc/self/task");
    REQUIRE(dir != nullptr);
    while (const dirent* entry = ::readdir(dir)) n += entry->d_name[0] != '.';
    ::closedir(dir);
    return n;
}

// Waits until the process has `n` threads. pthread_join returns once the thread has cleared its
// tid, a moment before the kernel reaps it and drops it from /proc/self/task; nothing signals
// that last step, so this looks again every millisecond, up to `patience`.
bool threads_drop_to(int n) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (thread_count() != n) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);  // the kernel's reaping has no event to wait on
    }
    return true;
}

}  // namespace

TEST_CASE("100,000 packets one way arrive complete and in order, both directions") {
    constexpr int count = 100'000;
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));

    for (int i = 0; i < count; ++i) REQUIRE(client.send({{"seq", i}, {"pad", "0123456789"}}));
    auto messages = receive(server, count);
    REQUIRE(messages.size() == count);
    for (int i = 0; i < count; ++i) {
        if (messages[static_cast<std::size_t>(i)].packet.get<int>("seq") != i) FAIL("out of order at " << i);
    }

    const auto id = server.clients()[0].id;
    for (int i = 0; i < count; ++i) REQUIRE(server.send(id, Packet{{"seq", i}}));
    auto packets = receive(client, count);
    REQUIRE(packets.size() == count);
    for (int i = 0; i < count; ++i) {
        if (packets[static_cast<std::size_t>(i)].get<int>("seq") != i) FAIL("out of order at " << i);
    }
}

TEST_CASE("sendall reaches many clients, each in order") {
    constexpr int clients = 20;
    constexpr int rounds = 200;
    sprocket::Servo server(0, quick_server());
    std::vector<std::unique_ptr<sprocket::Sprocket>> sprockets;
    for (int i = 0; i < clients; ++i)
        sprockets.push_back(std::make_unique<sprocket::Sprocket>("127.0.0.1", server.port(), quick_client()));
    REQUIRE(until_clients(server, clients));
    for (int r = 0; r < rounds; ++r) CHECK(server.sendall({{"round", r}}) == clients);
    for (auto& s : sprockets) {
        const auto got = receive(*s, rounds);
        REQUIRE(got.size() == rounds);
        for (int r = 0; r < rounds; ++r) CHECK(got[static_cast<std::size_t>(r)].get<int>("round") == r);
    }
    const auto first = sprockets.front()->id();
    CHECK(server.sendall_except(first, {{"not", "you"}}) == clients - 1);
    CHECK(receive(*sprockets.back(), 1).size() == 1);
    CHECK(sprockets.front()->get(100ms).empty());
}

TEST_CASE("200 Sprockets and a Servo in one process run on one I/O thread") {
    REQUIRE(sprocket::detail::Reactor::running_threads() == 0);
    const int before = thread_count();
    {
        auto options = quick_server();
        options.max_clients = 200;
        options.max_pending = 200;
        sprocket::Servo server(0, options);
        CHECK_FALSE(server.send(0, Packet{}));  // no such client
        std::vector<std::unique_ptr<sprocket::Sprocket>> sprockets;
        for (int i = 0; i < 200; ++i)
            sprockets.push_back(std::make_unique<sprocket::Sprocket>("127.0.0.1", server.port(), quick_client()));
        REQUIRE(until_clients(server, 200));
        if (!THREAD_SANITIZER) CHECK(thread_count() == before + 1);
        CHECK(sprocket::detail::Reactor::running_threads() == 1);

        CHECK(server.sendall({{"hello", "everyone"}}) == 200);
        for (auto& s : sprockets) {
            const auto got = receive(*s, 1);
            REQUIRE(got.size() == 1);
            CHECK(got[0].get<std::string>("hello") == "everyone");
        }
        if (!THREAD_SANITIZER) CHECK(thread_count() == before + 1);
    }
    // The last endpoint gone, the thread is gone too.
    CHECK(sprocket::detail::Reactor::running_threads() == 0);
    if (!THREAD_SANITIZER) CHECK(threads_drop_to(before));
}

TEST_CASE("big packets cross in pieces (partial sends resumed with the same bytes) intact") {
    auto options = quick_client();
    options.max_send_queue = 64 << 20;  // all 24 MB may be queued at once
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), options);
    REQUIRE(connect(client));
    constexpr int count = 40;
    for (int i = 0; i < count; ++i) {
        sprocket::Bytes blob(600'000);
        for (std::size_t b = 0; b < blob.size(); ++b) blob[b] = static_cast<std::uint8_t>((b * 7 + static_cast<std::size_t>(i)) & 0xff);
        REQUIRE(client.send({{"i", i}, {"blob", blob}}));
    }
    const auto messages = receive(server, count);
    REQUIRE(messages.size() == count);
    for (int i = 0; i < count; ++i) {
        const auto& p = messages[static_cast<std::size_t>(i)].packet;
        CHECK(p.get<int>("i") == i);
        const auto blob = p.get<sprocket::Bytes>("blob");
        REQUIRE(blob.size() == 600'000);
        bool same = true;
        for (std::size_t b = 0; b < blob.size(); ++b) same &= blob[b] == static_cast<std::uint8_t>((b * 7 + static_cast<std::size_t>(i)) & 0xff);
        CHECK(same);
    }
}

TEST_CASE("every public method can be called from several threads at once") {
    constexpr int threads = 4;
    constexpr int each = 5000;
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));
    std::vector<std::thread> senders;
    for (int t = 0; t < threads; ++t) {
        senders.emplace_back([&, t] {
            for (int i = 0; i < each; ++i) {
                client.send({{"t", t}, {"i", i}});
                server.sendall({{"t", t}, {"i", i}});
                if (i % 500 == 0) {
                    (void)server.clients();
                    (void)client.status();
                    (void)client.rtt();
                }
            }
        });
    }
    // Meanwhile this thread drains both sides.
    std::vector<int> next_from_client(threads, 0), next_from_server(threads, 0);
    int from_client = 0, from_server = 0;
    bool ordered = true;
    const auto deadline = Clock::now() + patience;
    while ((from_client < threads * each || from_server < threads * each) && Clock::now() < deadline) {
        for (auto& m : server.get(20ms)) {
            const int t = m.packet.get<int>("t");
            ordered &= m.packet.get<int>("i") == next_from_client[static_cast<std::size_t>(t)]++;
            ++from_client;
        }
        for (auto& p : client.get()) {
            const int t = p.get<int>("t");
            ordered &= p.get<int>("i") == next_from_server[static_cast<std::size_t>(t)]++;
            ++from_server;
        }
    }
    for (auto& s : senders) s.join();
    CHECK(from_client == threads * each);
    CHECK(from_server == threads * each);
    CHECK(ordered);  // each thread's packets arrive in the order that thread sent them
}

TEST_CASE("a send on an idle connection is written at once by the sending thread, and order holds with queued ones") {
    sprocket::Servo server(0, quick_server());
    sprocket::Sprocket client("127.0.0.1", server.port(), quick_client());
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));
    const sprocket::Packet probe{{"seq", 0}};
    const std::size_t frame = sprocket::frame_header_size + sprocket::encode(probe).size();
    // One packet per round trip: each finds the I/O thread idle, so it goes out from send()
    // itself (counted in bytes_sent before send returns). A heartbeat in flight at that moment
    // makes it wait its turn instead, so several tries are allowed.
    bool direct = false;
    int seq = 0;
    for (int i = 0; i < 50 && !direct; ++i) {
        const auto before = client.stats().bytes_sent;
        REQUIRE(client.send(sprocket::Packet{{"seq", seq++}}));
        direct = client.stats().bytes_sent - before == frame;
        REQUIRE(receive(server, 1).size() == 1);
    }
    CHECK(direct);
    // Bursts (queued for the I/O thread) and single sends (written at once) interleaved.
    for (int round = 0; round < 20; ++round) {
        for (int i = 0; i < 30; ++i) REQUIRE(client.send(sprocket::Packet{{"seq", seq++}}));
        REQUIRE(client.send(sprocket::Packet{{"seq", seq++}}));
    }
    std::vector<sprocket::Message> got;
    const std::size_t expected = 20 * 31;
    for (auto& m : receive(server, expected)) got.push_back(std::move(m));
    REQUIRE(got.size() == expected);
    const int first = seq - static_cast<int>(expected);
    for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i].packet.get<int>("seq") == first + static_cast<int>(i));
}

// Per-channel counters: counted without a lock by the game's and the I/O thread at once.
#include <sprocket/detail/channel_counters.hpp>

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <thread>

using sprocket::detail::ChannelCounters;

TEST_CASE("channel counters: two threads naming the same channels at once count every packet once, under one name") {
    ChannelCounters counters;
    constexpr int rounds = 2000;
    auto count = [&](bool sending) {
        for (int i = 0; i < rounds; ++i) {
            const std::string channel = "c" + std::to_string(i % 40);  // past the 32 names kept
            if (sending) counters.sent(channel, 10);
            else counters.received(channel, 3);
        }
    };
    std::thread other([&] { count(false); });
    count(true);
    other.join();
    const auto stats = counters.snapshot();
    REQUIRE(stats.size() == ChannelCounters::max_channels + 1);
    std::set<std::string> names;
    std::uint64_t sent = 0, received = 0, bytes_sent = 0, bytes_received = 0;
    for (const auto& c : stats) {
        names.insert(c.channel);
        sent += c.packets_sent;
        received += c.packets_received;
        bytes_sent += c.bytes_sent;
        bytes_received += c.bytes_received;
    }
    CHECK(names.size() == stats.size());  // no name twice
    CHECK(stats.back().channel == "*");
    CHECK(sent == rounds);
    CHECK(received == rounds);
    CHECK(bytes_sent == 10u * rounds);
    CHECK(bytes_received == 3u * rounds);
    CHECK(stats.front().channel.rfind('c', 0) == 0);
}

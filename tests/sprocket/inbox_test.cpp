// The inbox: packets wait as their checked bytes (Encoded) and are decoded by the thread that
// takes them; selection sees each packet's channel; budgets are charged until the game takes.
#include <sprocket/codec.hpp>
#include <sprocket/detail/encoded.hpp>
#include <sprocket/detail/inbox.hpp>
#include <sprocket/detail/reactor.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace sprocket;
using namespace sprocket::detail;

namespace {

Packet state(const std::string& channel, int seq) {
    return Packet::on(channel, {{"seq", seq}, {"name", "Player " + std::to_string(seq)}, {"x", 1.5 * seq}});
}

// Queues `packet` as the I/O thread does: checked, the event holding only its channel, the
// body a view of the read buffer, which is overwritten right after (the next read).
void queue(Inbox& inbox, const Packet& packet, const std::shared_ptr<ReceiveBudget>& budget) {
    Bytes bytes = encode(packet);
    const CheckResult checked = check(bytes.data(), bytes.size());
    REQUIRE(checked.ok());
    Event event{EventKind::packet, 7, Packet(), CloseReason::none, ""};
    event.packet.set_channel(std::string(checked.channel()));
    inbox.push_packet(std::move(event), Encoded::view(bytes.data(), bytes.size()), checked.footprint(), budget);
    std::fill(bytes.begin(), bytes.end(), std::uint8_t{0xee});
}

}  // namespace

TEST_CASE("queued packets are decoded by the thread that takes them, in order, after the channel chose them") {
    const auto reactor = Reactor::acquire();
    Inbox inbox(*reactor);
    const auto budget = std::make_shared<ReceiveBudget>();
    const std::vector<std::string> channels{"a", "b", "a", "", "b", "a"};
    std::size_t charged = 0;
    for (std::size_t i = 0; i < channels.size(); ++i) {
        const Packet p = state(channels[i], static_cast<int>(i));
        const Bytes bytes = encode(p);
        charged += check(bytes.data(), bytes.size()).footprint();
        queue(inbox, p, budget);
    }
    CHECK(budget->queued.load() == charged);  // as they will be decoded, from the moment they are queued
    CHECK(inbox.bytes() == charged);
    inbox.announce();

    // Selection sees the channel of every packet, not its entries; what it leaves keeps its
    // bytes, and a later take decodes those.
    std::vector<std::string> seen;
    std::vector<Event> a = inbox.take([&](const Event& e) {
        seen.push_back(e.packet.channel());
        CHECK(e.packet.empty());
        return e.packet.channel() == "a";
    });
    CHECK(seen == channels);
    REQUIRE(a.size() == 3);
    CHECK(a[0].packet == state("a", 0));
    CHECK(a[1].packet == state("a", 2));
    CHECK(a[2].packet == state("a", 5));
    CHECK(a[0].client == 7);

    std::vector<Event> rest;
    std::thread game([&] { rest = inbox.take([](const Event&) { return true; }); });
    game.join();
    REQUIRE(rest.size() == 3);
    CHECK(rest[0].packet == state("b", 1));
    CHECK(rest[1].packet == state("", 3));
    CHECK(rest[2].packet == state("b", 4));
    CHECK(inbox.bytes() == 0);
    CHECK(budget->queued.load() == 0);
}

TEST_CASE("taken vectors given back hold later reads: no new memory per read once warm") {
    const auto reactor = Reactor::acquire();
    Inbox inbox(*reactor);
    const auto budget = std::make_shared<ReceiveBudget>();
    std::vector<const Event*> used;             // the memory each read was taken in
    std::vector<std::vector<Event>> hogs;       // keep malloc from handing freed memory back
    for (int round = 0; round < 8; ++round) {
        for (int i = 0; i < 100; ++i) queue(inbox, state("", round * 100 + i), budget);
        inbox.announce();
        std::vector<Event> taken = inbox.take([](const Event&) { return true; });
        REQUIRE(taken.size() == 100);
        CHECK(taken.front().packet == state("", round * 100));
        CHECK(taken.back().packet == state("", round * 100 + 99));
        const Event* memory = taken.data();
        // From the fourth read on (the staging, queue and spare vectors have all been used
        // once), every read lands in memory an earlier one used.
        if (round >= 3) CHECK(std::find(used.begin(), used.end(), memory) != used.end());
        used.push_back(memory);
        const std::size_t room = taken.capacity();
        inbox.recycle(std::move(taken));
        hogs.emplace_back().reserve(room);  // memory recycle let go of would end up here
    }
    CHECK(budget->queued.load() == 0);
}

TEST_CASE("packets left behind by a take keep their budget alive after its connection is gone") {
    // The first packet of a run holds the budget for the others; here it is taken, the packets
    // after it stay, and their connection (the budget's other holder) goes away. ASan would
    // see the budget freed under them.
    const auto reactor = Reactor::acquire();
    Inbox inbox(*reactor);
    auto budget = std::make_shared<ReceiveBudget>();
    const std::weak_ptr<ReceiveBudget> watch = budget;
    queue(inbox, state("first", 0), budget);
    queue(inbox, state("later", 1), budget);
    queue(inbox, state("later", 2), budget);
    inbox.announce();
    const std::vector<Event> first = inbox.take([](const Event& e) { return e.packet.channel() == "first"; });
    REQUIRE(first.size() == 1);
    budget.reset();  // the connection is gone
    CHECK(!watch.expired());
    CHECK(watch.lock()->queued.load() > 0);  // still charged for the two waiting
    const std::vector<Event> later = inbox.take([](const Event&) { return true; });
    REQUIRE(later.size() == 2);
    CHECK(later[1].packet == state("later", 2));
    CHECK(watch.expired());  // the last charge went with them
}

TEST_CASE("connection events and packets keep their order, and events carry no bytes") {
    const auto reactor = Reactor::acquire();
    Inbox inbox(*reactor);
    const auto budget = std::make_shared<ReceiveBudget>();
    inbox.push(Event{EventKind::joined, 7, {}, CloseReason::none, "127.0.0.1:5"});
    queue(inbox, state("x", 1), budget);
    inbox.push(Event{EventKind::left, 7, {}, CloseReason::kicked, "bye"});  // publishes the packet first
    const std::vector<Event> all = inbox.take([](const Event&) { return true; });
    REQUIRE(all.size() == 3);
    CHECK(all[0].kind == EventKind::joined);
    CHECK(all[1].kind == EventKind::packet);
    CHECK(all[1].packet == state("x", 1));
    CHECK(all[2].kind == EventKind::left);
    CHECK(all[2].packet.empty());
}

TEST_CASE("packets of several reads, small and big, come out whole whatever was taken in between") {
    const auto reactor = Reactor::acquire();
    Inbox inbox(*reactor);
    const auto budget = std::make_shared<ReceiveBudget>();
    std::vector<Packet> sent;
    auto read = [&](int first, int n) {  // one read's packets, announced together
        for (int i = first; i < first + n; ++i) {
            Packet p = state(i % 3 == 0 ? "x" : "", i);
            if (i % 4 == 1) p.set("big", std::string(Encoded::arena_max + 100, static_cast<char>('a' + i % 26)));
            queue(inbox, p, budget);
            sent.push_back(std::move(p));
        }
        inbox.announce();
    };
    auto is_x = [](const Event& e) { return e.packet.channel() == "x"; };
    read(0, 7);
    read(7, 5);  // behind packets not taken yet
    std::vector<Event> x = inbox.take(is_x);
    read(12, 6);  // behind the ones the take left
    std::vector<Event> rest = inbox.take([](const Event& e) { return e.packet.channel() != "x"; });
    std::vector<Event> x2 = inbox.take(is_x);
    read(18, 3);
    std::vector<Event> last = inbox.take([](const Event&) { return true; });

    std::vector<Packet> got;
    for (auto* taken : {&x, &rest, &x2, &last}) {
        for (std::size_t i = 1; i < taken->size(); ++i)  // each take keeps the order of what it took
            CHECK((*taken)[i - 1].packet.get<int>("seq") < (*taken)[i].packet.get<int>("seq"));
        for (Event& e : *taken) got.push_back(std::move(e.packet));
    }
    CHECK(got.size() == sent.size());
    CHECK(budget->queued.load() == 0);
    for (const Packet& p : sent) {
        const auto found = std::find(got.begin(), got.end(), p);
        CHECK_MESSAGE(found != got.end(), to_string(p));
    }
}

TEST_CASE("Encoded copies small bytes, and adopts a reassembled frame without copying") {
    const Bytes bytes = encode(state("c", 3));
    const Encoded copy(bytes.data(), bytes.size());
    CHECK(copy.size() == bytes.size());
    CHECK(Bytes(copy.data(), copy.data() + copy.size()) == bytes);
    CHECK(copy.data() != bytes.data());

    Bytes frame(5, 0xee);  // a frame header, then the body
    frame.insert(frame.end(), bytes.begin(), bytes.end());
    const std::uint8_t* body = frame.data() + 5;
    Encoded adopted(std::move(frame), 5);
    CHECK(adopted.data() == body);
    CHECK(adopted.size() == bytes.size());
    const Encoded moved = std::move(adopted);  // moving keeps the buffer
    CHECK(moved.data() == body);
    CHECK(Encoded().empty());

    // A view is kept in an arena when small, in a block of its own when big.
    Bytes arena{1, 2, 3};
    Encoded small = Encoded::view(bytes.data(), bytes.size());
    CHECK(small.data() == bytes.data());
    small.keep(arena);
    CHECK(small.in_arena());
    CHECK(small.offset() == 3);
    CHECK(Bytes(arena.begin() + 3, arena.end()) == bytes);
    CHECK_THROWS_AS(Encoded(std::move(small)).decode(), std::logic_error);  // not without its arena
    const Bytes big_bytes = encode(Packet{{"s", std::string(Encoded::arena_max, 's')}});
    Encoded big = Encoded::view(big_bytes.data(), big_bytes.size());
    big.keep(arena);
    CHECK_FALSE(big.in_arena());
    CHECK(big.data() != big_bytes.data());
    CHECK(arena.size() == 3 + bytes.size());
    CHECK(std::move(big).decode(arena) == Packet{{"s", std::string(Encoded::arena_max, 's')}});
}

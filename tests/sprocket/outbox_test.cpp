// The outbox's hold (Outbox::hold): a stream of packets leaves in a few big writes, a packet on a
// quiet connection at once. Times are passed in, so nothing here depends on the machine's speed.
// And its bulk lane: a big packet leaves in pieces, from its own values when pushed by move.
#include <sprocket/codec.hpp>
#include <sprocket/detail/control.hpp>
#include <sprocket/detail/outbox.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace sprocket;
using namespace sprocket::detail;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t big = std::size_t{16} << 20;

Packet state(int seq) { return Packet{{"seq", seq}, {"name", "Player 1"}, {"x", 1.5}}; }

// Takes a stream (two packets) and queues one more, which `box` then holds. Returns a moment
// within the hold (just before the take).
Clock::time_point start_stream(Outbox& box) {
    REQUIRE(box.push_packet(state(-1)) == Outbox::Push::queued);
    REQUIRE(box.push_packet(state(0)) == Outbox::Push::queued);
    Bytes out;
    const auto before = Clock::now();
    box.take(out);
    REQUIRE(box.push_packet(state(1)) == Outbox::Push::queued);
    REQUIRE(!box.hold(before).take);
    return before;
}

}  // namespace

TEST_CASE("a packet on a quiet connection is taken at once, and nothing is held after it") {
    Outbox box(big, big);
    REQUIRE(box.push_packet(state(1)) == Outbox::Push::queued);
    CHECK(box.needs_io());
    const Outbox::Hold first = box.hold(Clock::now());
    CHECK(first.take);
    CHECK(first.recheck == Clock::time_point::max());
    Bytes out;
    box.take(out);
    CHECK(!out.empty());
    // Long after that take, the next packet is taken at once too.
    REQUIRE(box.push_packet(state(2)) == Outbox::Push::queued);
    CHECK(box.needs_io());
    CHECK(box.hold(Clock::now() + std::chrono::seconds(1)).take);
}

TEST_CASE("ping-pong is never held: after a take of one packet, the next is taken at once") {
    Outbox box(big, big);
    Bytes out;
    for (int i = 0; i < 5; ++i) {
        box.heard();  // the request this packet answers arrived (however soon after the last push)
        REQUIRE(box.push_packet(state(i)) == Outbox::Push::queued);
        const auto now = Clock::now();  // well within hold_limit of the previous take
        CHECK(box.needs_io());
        CHECK(box.hold(now).take);
        out.clear();
        box.take(out);
        CHECK(!out.empty());
    }
    box.allow_direct(7);
    CHECK(box.direct_descriptor() == 7);  // a reply may go out from the game's thread again
}

TEST_CASE("a packet taken alone but pushed right behind the one before starts a stream: the next ones are held") {
    // The I/O thread may wake for each packet of a stream at once (on the game's own core they
    // take turns, one packet each): a take of one pushed within a few microseconds of the push
    // before it counts as a stream.
    Outbox box(big, big);
    Bytes out;
    const auto t0 = Clock::now();
    REQUIRE(box.push_packet(state(0), nullptr, nullptr, t0) == Outbox::Push::queued);
    box.take(out);
    REQUIRE(box.push_packet(state(1), nullptr, nullptr, t0 + std::chrono::microseconds(1)) == Outbox::Push::queued);
    out.clear();
    box.take(out);  // one packet, right behind the one before
    REQUIRE(box.push_packet(state(2)) == Outbox::Push::queued);
    CHECK(!box.hold(t0).take);
    CHECK(!box.needs_io());

    SUBCASE("unless it answered packets that arrived meanwhile (a fast ping-pong)") {
        Outbox pong(big, big);
        REQUIRE(pong.push_packet(state(0), nullptr, nullptr, t0) == Outbox::Push::queued);
        pong.take(out);
        pong.heard();
        REQUIRE(pong.push_packet(state(1), nullptr, nullptr, t0 + std::chrono::microseconds(1)) == Outbox::Push::queued);
        pong.take(out);
        REQUIRE(pong.push_packet(state(2)) == Outbox::Push::queued);
        CHECK(pong.hold(t0).take);
    }
}

TEST_CASE("packets queued right after a take of a stream are held until hold_limit has passed, without waking the I/O thread") {
    Outbox box(big, big);
    REQUIRE(box.push_packet(state(-1)) == Outbox::Push::queued);  // a take of two: a stream
    REQUIRE(box.push_packet(state(0)) == Outbox::Push::queued);
    Bytes out;
    const auto before = Clock::now();  // earlier than the take: within its hold for sure
    box.take(out);
    const auto after = Clock::now();
    for (int i = 1; i <= 10; ++i) REQUIRE(box.push_packet(state(i)) == Outbox::Push::queued);

    const Outbox::Hold held = box.hold(before);
    CHECK(!held.take);
    CHECK(held.recheck > before);
    CHECK(held.recheck <= after + Outbox::hold_limit);
    CHECK(!box.needs_io());  // the I/O thread comes back by itself at `recheck`
    for (int i = 11; i <= 20; ++i) REQUIRE(box.push_packet(state(i)) == Outbox::Push::queued);
    CHECK(!box.needs_io());
    CHECK(box.direct_descriptor() == -1);  // no write of the game's own in between

    const Outbox::Hold due = box.hold(held.recheck);
    CHECK(due.take);
    out.clear();
    box.take(out);
    // All twenty in one piece, in order: the frames' sequence numbers run 1..20.
    int expected = 1;
    FrameDecoder decoder(big);
    decoder.feed(out.data(), out.size());
    FrameView frame;
    while (decoder.next(frame) == FrameStatus::ready) {
        auto result = decode(frame.body, frame.size);
        REQUIRE(result);
        CHECK(std::move(result).packet().get<int>("seq") == expected++);
    }
    CHECK(expected == 21);
}

TEST_CASE("a held queue that reaches hold_bytes wakes the I/O thread and is taken at once") {
    Outbox box(big, big);
    const auto before = start_stream(box);
    REQUIRE(!box.needs_io());
    Packet chunk{{"blob", Bytes(Outbox::hold_bytes, 7)}};
    REQUIRE(box.push_packet(chunk) == Outbox::Push::queued);  // a bulk frame: never held
    CHECK(box.needs_io());
    CHECK(box.hold(before).take);
}

TEST_CASE("small packets adding up to hold_bytes end the hold too") {
    Outbox box(big, big);
    const auto before = start_stream(box);
    const Packet medium{{"blob", Bytes(1000, 7)}};
    std::size_t queued = 0;
    while (!box.needs_io() && queued < 2 * Outbox::hold_bytes) {
        REQUIRE(box.push_packet(medium) == Outbox::Push::queued);
        queued += 1000;
    }
    CHECK(box.needs_io());
    CHECK(queued >= Outbox::hold_bytes - 1000);
    CHECK(box.hold(before).take);
}

TEST_CASE("while the I/O thread waits for a full socket, no push wakes it, however much is queued") {
    Outbox box(big, big);
    REQUIRE(box.push_packet(state(0)) == Outbox::Push::queued);
    Bytes out;
    box.take(out);
    box.hold_for_socket();  // the write was partial: the socket says when it drained
    const Packet medium{{"blob", Bytes(1000, 7)}};
    for (std::size_t queued = 0; queued < 2 * Outbox::hold_bytes; queued += 1000) {
        REQUIRE(box.push_packet(medium) == Outbox::Push::queued);
        REQUIRE(!box.needs_io());  // it could not send more: waking it costs a switch for nothing
    }
    REQUIRE(box.push_packet(Packet{{"blob", Bytes(Outbox::bulk_threshold + 1, 7)}}) == Outbox::Push::queued);
    CHECK(!box.needs_io());
    // Writable again: the I/O thread looks at the queue by itself and takes it all.
    CHECK(box.hold(Clock::now()).take);
    out.clear();
    box.take(out);
    CHECK(out.size() > 2 * Outbox::hold_bytes);
}

TEST_CASE("a big packet pushed by move leaves in pieces from its own values: the same frame as a copy") {
    Packet level{{"data", Bytes(std::size_t{5} << 20, 3)}, {"name", "arena"}, {"notes", std::string(80 << 10, 'n')}};
    level.set_channel("level");
    Bytes copied;
    append_packet_frame(copied, level);

    Outbox box(big, big);
    REQUIRE(box.push_packet(std::move(level)) == Outbox::Push::queued);
    CHECK(level.empty());  // NOLINT(bugprone-use-after-move): its values went into the queue...
    CHECK(level.channel() == "level");  // ...its channel stayed
    CHECK(box.unsent() == copied.size());

    Bytes sent;
    std::vector<std::size_t> pieces;
    FrameDecoder decoder(big);
    for (int takes = 0; box.has_data() && takes < 1000; ++takes) {
        Bytes out;
        box.take(out);
        decoder.feed(out.data(), out.size());
        FrameView frame;
        while (decoder.next(frame) == FrameStatus::ready) {
            REQUIRE(frame.kind == static_cast<std::uint8_t>(FrameKind::fragment));
            pieces.push_back(frame.size);
            sent.insert(sent.end(), frame.body, frame.body + frame.size);
        }
    }
    CHECK(sent == copied);
    REQUIRE(pieces.size() >= 2);
    CHECK(pieces.front() == Outbox::piece_size);
    for (std::size_t i = 1; i + 1 < pieces.size(); ++i) {
        CHECK(pieces[i] >= Outbox::piece_min);
        CHECK(pieces[i] <= Outbox::piece_max);
    }
}

TEST_CASE("capped pieces (a slow simulated link) are no bigger than the cap, and small frames pass between them") {
    Outbox box(big, big);
    box.cap_pieces(1000);
    Packet asset{{"data", Bytes(100'000, 7)}};
    asset.set_channel("assets");
    REQUIRE(box.push_packet(asset) == Outbox::Push::queued);
    std::vector<std::uint8_t> kinds;
    FrameDecoder decoder(big);
    for (int takes = 0; box.has_data() && takes < 1000; ++takes) {
        if (takes == 3) REQUIRE(box.push_packet(state(1)) == Outbox::Push::queued);
        Bytes out;
        box.take(out);
        decoder.feed(out.data(), out.size());
        FrameView frame;
        while (decoder.next(frame) == FrameStatus::ready) {
            kinds.push_back(frame.kind);
            if (frame.kind == static_cast<std::uint8_t>(FrameKind::fragment)) CHECK(frame.size <= 1000);
        }
    }
    REQUIRE(kinds.size() > 100);
    // The state packet went out with the fourth take, ahead of its piece.
    CHECK(kinds[3] == static_cast<std::uint8_t>(FrameKind::packet));
}

TEST_CASE("a small packet pushed by move is copied and left as it was") {
    Outbox box(big, big);
    Packet packet = state(1);
    REQUIRE(box.push_packet(std::move(packet)) == Outbox::Push::queued);
    CHECK(packet == state(1));  // NOLINT(bugprone-use-after-move): documented to stay
}

TEST_CASE("one packet over the limit at a time: its waiting bytes do not count, a second one is refused") {
    constexpr std::size_t limit = 64 << 10;
    Outbox box(limit, big);
    Packet map{{"data", Bytes(1'000'000, 5)}};
    map.set_channel("assets");
    REQUIRE(box.push_packet(map) == Outbox::Push::queued);
    CHECK(box.unsent() > limit);
    // Small packets around it still fit: the map's waiting bytes are not counted.
    for (int i = 0; i < 100; ++i) REQUIRE(box.push_packet(state(i)) == Outbox::Push::queued);
    CHECK_THROWS_WITH_AS(box.push_packet(map), doctest::Contains("one at a time"), std::length_error);
    // A shared (sendall) one is refused the same way.
    auto shared = std::make_shared<SharedFrame>();
    append_packet_frame(shared->frame, map);
    CHECK_THROWS_AS(box.push_shared(shared, "assets"), std::length_error);
    // Handed out but not sent, it still does not count; a second one waits until it is sent.
    Bytes all;
    box.take(all, true);
    CHECK(box.push_packet(state(-1)) == Outbox::Push::queued);
    CHECK_THROWS_AS(box.push_packet(map), std::length_error);
    box.sent(all.size() / 2);
    CHECK_THROWS_AS(box.push_packet(map), std::length_error);
    box.sent(all.size() - all.size() / 2);
    Bytes rest;
    box.take(rest, true);
    box.sent(rest.size());
    CHECK(box.unsent() == 0);
    CHECK(box.push_shared(shared, "assets") == Outbox::Push::queued);
    // Small packets still overflow the limit as before when they alone pass it.
    bool overflowed = false;
    for (int i = 0; i < 10'000 && !overflowed; ++i) overflowed = box.push_packet(state(i)) == Outbox::Push::overflow;
    CHECK(overflowed);
}

TEST_CASE("a shared frame (sendall) of a big packet is read from where it is: the same bytes as a copy") {
    Packet level{{"data", Bytes(std::size_t{3} << 20, 9)}, {"name", "arena"}};
    level.set_channel("level");
    Bytes copied;
    append_packet_frame(copied, level);
    auto shared = std::make_shared<SharedFrame>();
    append_packet_frame(shared->frame, level, shared->borrowed, Outbox::borrow_min);
    shared->values = std::move(static_cast<Map&>(level));
    REQUIRE(!shared->borrowed.empty());
    CHECK(shared->size() == copied.size());
    const std::shared_ptr<const SharedFrame> frame = shared;
    Outbox a(big, big), b(big, big);
    REQUIRE(a.push_shared(frame, "level") == Outbox::Push::queued);
    REQUIRE(b.push_shared(frame, "level") == Outbox::Push::queued);
    for (Outbox* box : {&a, &b}) {
        Bytes sent;
        FrameDecoder decoder(big);
        for (int takes = 0; box->has_data() && takes < 1000; ++takes) {
            Bytes out;
            box->take(out);
            decoder.feed(out.data(), out.size());
            FrameView piece;
            while (decoder.next(piece) == FrameStatus::ready) sent.insert(sent.end(), piece.body, piece.body + piece.size);
        }
        CHECK(sent == copied);
    }
}

TEST_CASE("control frames (heartbeats) while an oversized packet waits do not count it either") {
    constexpr std::size_t limit = 64 << 10;
    Outbox box(limit, big);
    REQUIRE(box.push_packet(Packet{{"data", Bytes(1'000'000, 5)}}) == Outbox::Push::queued);
    for (int i = 0; i < 10; ++i) box.push_control([](Bytes& out) { append_ping(out, FrameKind::ping, 1); });
    CHECK_FALSE(box.overflowed());
    CHECK(box.push_packet(state(1)) == Outbox::Push::queued);
}

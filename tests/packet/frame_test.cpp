// Frames: the header layout, batching, and the incremental decoder fed in every possible way.
#include <sprocket/codec.hpp>
#include <sprocket/frame.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

using namespace sprocket;

namespace {

struct Collected {
    std::vector<std::pair<std::uint8_t, Bytes>> frames;
    FrameStatus last = FrameStatus::incomplete;
};

void drain(FrameDecoder& decoder, Collected& out) {
    FrameView frame;
    while ((out.last = decoder.next(frame)) == FrameStatus::ready)
        out.frames.emplace_back(frame.kind, Bytes(frame.body, frame.body + frame.size));
}

// A stream of frames of assorted kinds and sizes (including empty and large ones).
struct Stream {
    Bytes bytes;
    std::vector<std::pair<std::uint8_t, Bytes>> frames;
};

Stream make_stream() {
    Stream s;
    std::mt19937 rng(4);
    for (std::size_t size : {0u, 1u, 5u, 60u, 300u, 70000u, 2u}) {
        Bytes body(size);
        for (auto& b : body) b = static_cast<std::uint8_t>(rng());
        const auto kind = static_cast<std::uint8_t>(1 + s.frames.size());
        append_frame(s.bytes, kind, body.data(), body.size());
        s.frames.emplace_back(kind, body);
    }
    return s;
}

}  // namespace

TEST_CASE("a frame is a little-endian length, a kind, and the body") {
    Bytes out;
    const std::uint8_t body[] = {0xaa, 0xbb, 0xcc};
    append_frame(out, 0x07, body, sizeof body);
    CHECK(out == Bytes{0x03, 0x00, 0x00, 0x00, 0x07, 0xaa, 0xbb, 0xcc});
}

TEST_CASE("a packet frame holds the encoded packet, with no copy in between") {
    const Packet p{{"x", 1}};
    Bytes out{0xff};
    append_packet_frame(out, p);
    const Bytes body = encode(p);
    REQUIRE(out.size() == 1 + frame_header_size + body.size());
    CHECK(out[1] == body.size());
    CHECK(out[5] == static_cast<std::uint8_t>(FrameKind::packet));
    CHECK(Bytes(out.begin() + 6, out.end()) == body);
}

TEST_CASE("many frames batch into one buffer and split back in order") {
    Bytes batch;
    for (int i = 0; i < 1000; ++i) append_packet_frame(batch, Packet{{"seq", i}});
    FrameDecoder decoder;
    decoder.feed(batch.data(), batch.size());
    FrameView frame;
    for (int i = 0; i < 1000; ++i) {
        REQUIRE(decoder.next(frame) == FrameStatus::ready);
        CHECK(frame.kind == static_cast<std::uint8_t>(FrameKind::packet));
        auto result = decode(frame.body, frame.size);
        REQUIRE(result.ok());
        CHECK(result->get<int>("seq") == i);
    }
    CHECK(decoder.next(frame) == FrameStatus::incomplete);
    CHECK(decoder.buffered() == 0);
    CHECK(decoder.consumed() == batch.size());
}

TEST_CASE("a stream split at every possible point yields the same frames") {
    const Stream s = make_stream();
    for (std::size_t split = 0; split <= s.bytes.size(); split += (split < 400 ? 1 : 997)) {
        CAPTURE(split);
        FrameDecoder decoder;
        Collected got;
        decoder.feed(s.bytes.data(), split);
        drain(decoder, got);
        decoder.feed(s.bytes.data() + split, s.bytes.size() - split);
        drain(decoder, got);
        CHECK(got.last == FrameStatus::incomplete);
        CHECK(got.frames == s.frames);
    }
}

TEST_CASE("a stream fed one byte at a time yields the same frames") {
    const Stream s = make_stream();
    FrameDecoder decoder;
    Collected got;
    for (const std::uint8_t b : s.bytes) {
        decoder.feed(&b, 1);
        drain(decoder, got);
    }
    CHECK(got.frames == s.frames);
    CHECK(decoder.buffered() == 0);
}

TEST_CASE("a stream fed in random chunks through prepare/commit yields the same frames") {
    const Stream s = make_stream();
    std::mt19937 rng(11);
    for (int round = 0; round < 50; ++round) {
        FrameDecoder decoder;
        Collected got;
        std::size_t at = 0;
        while (at < s.bytes.size()) {
            const std::size_t room = 1 + rng() % 9000;
            const std::size_t n = std::min<std::size_t>(1 + rng() % room, s.bytes.size() - at);
            std::uint8_t* dst = decoder.prepare(room);
            std::copy(s.bytes.begin() + static_cast<std::ptrdiff_t>(at),
                      s.bytes.begin() + static_cast<std::ptrdiff_t>(at + n), dst);
            decoder.commit(n);
            at += n;
            drain(decoder, got);
        }
        CHECK(got.frames == s.frames);
    }
}

TEST_CASE("needed() says how many bytes complete the frame in progress") {
    FrameDecoder decoder;
    CHECK(decoder.needed() == frame_header_size);
    Bytes frame;
    const Bytes body(100, 1);
    append_frame(frame, 1, body.data(), body.size());
    decoder.feed(frame.data(), 3);
    CHECK(decoder.needed() == 2);
    decoder.feed(frame.data() + 3, 10);
    CHECK(decoder.needed() == 92);
}

TEST_CASE("an oversized header is rejected before its body is buffered") {
    FrameDecoder decoder(1024);
    const std::uint8_t header[] = {0xff, 0xff, 0xff, 0xff, 0x01};  // announces 4 GiB - 1
    decoder.feed(header, sizeof header);
    FrameView frame;
    CHECK(decoder.next(frame) == FrameStatus::error);
    CHECK(decoder.failed());
    CHECK(decoder.error().code == DecodeErrc::too_large);
    CHECK(decoder.error().message == "too large: frame of 4294967295 bytes exceeds the limit of 1024 (at byte 0)");
    CHECK(decoder.next(frame) == FrameStatus::error);  // stays failed
}

TEST_CASE("the limit is exact, and the error offset counts from the stream's start") {
    FrameDecoder decoder(16);
    Bytes stream;
    const Bytes ok(16, 0), too_big(17, 0);
    append_frame(stream, 1, ok.data(), ok.size());
    append_frame(stream, 1, too_big.data(), too_big.size());
    decoder.feed(stream.data(), stream.size());
    FrameView frame;
    CHECK(decoder.next(frame) == FrameStatus::ready);
    CHECK(frame.size == 16);
    CHECK(decoder.next(frame) == FrameStatus::error);
    CHECK(decoder.error().offset == 21);
}

TEST_CASE("the default limit is 16 MiB, and no limit exceeds what the header can say") {
    CHECK(FrameDecoder().max_frame_size() == 16u * 1024 * 1024);
    CHECK(FrameDecoder(std::numeric_limits<std::size_t>::max()).max_frame_size() == 0xffffffffu);
}

TEST_CASE("needed() is 0 once the stream is bad, so nobody reads a huge frame's worth") {
    FrameDecoder decoder(1024);
    const std::uint8_t header[] = {0xff, 0xff, 0xff, 0x7f, 0x01};
    decoder.feed(header, sizeof header);
    CHECK(decoder.needed() == 0);  // known bad before next() says so
    FrameView frame;
    CHECK(decoder.next(frame) == FrameStatus::error);
    CHECK(decoder.needed() == 0);
}

TEST_CASE("an oversized header followed by body bytes is still rejected without buffering a frame") {
    FrameDecoder decoder(1024);
    Bytes stream{0x00, 0x10, 0x00, 0x00, 0x01};  // announces 4096
    stream.resize(stream.size() + 2000, 0xab);
    decoder.feed(stream.data(), stream.size());
    FrameView frame;
    CHECK(decoder.next(frame) == FrameStatus::error);
    CHECK(decoder.error().code == DecodeErrc::too_large);
}

TEST_CASE("committing more than was prepared is a logic_error") {
    FrameDecoder decoder;
    decoder.prepare(4);
    CHECK_THROWS_AS(decoder.commit(std::size_t{1} << 40), std::logic_error);
}

TEST_CASE("memory is given back after a big frame") {
    FrameDecoder decoder;
    Bytes big;
    const Bytes body(4u << 20, 7);
    append_frame(big, 1, body.data(), body.size());
    decoder.feed(big.data(), big.size());
    FrameView frame;
    REQUIRE(decoder.next(frame) == FrameStatus::ready);
    CHECK(frame.size == body.size());
    CHECK(decoder.capacity() >= body.size());
    Bytes small;
    append_packet_frame(small, Packet{{"x", 1}});
    decoder.feed(small.data(), small.size());
    CHECK(decoder.capacity() < 64u * 1024);
    REQUIRE(decoder.next(frame) == FrameStatus::ready);
    CHECK(decode(frame.body, frame.size)->get<int>("x") == 1);
}

TEST_CASE("a literal's frame is the frame of the packet the literal makes, in any key order") {
    const std::string big(5000, 'b');  // past the encoder's 4 KiB buffer: the size is measured first
    auto same = [](std::initializer_list<Map::Field> fields) {
        Bytes direct{0xff};
        append_packet_frame(direct, fields);
        Bytes made{0xff};
        append_packet_frame(made, Packet(fields));
        CHECK(direct == made);
    };
    same({});
    same({{"x", 1}});
    same({{"y", 2.5}, {"x", "one"}, {"alive", true}, {"none", nullptr}, {"list", List{1, "a"}}});
    same({{"k", 1}, {"a", 2}, {"k", 3}});  // a repeated key: the last one is kept
    same({{"nested", {{"b", 1}, {"a", Bytes{1, 2}}}}, {"big", big}});
    // More fields than the literal's order keeps on the stack, out of order.
    same({{"q", 1}, {"p", 2}, {"o", 3}, {"n", 4}, {"m", 5}, {"l", 6}, {"k", 7}, {"j", 8}, {"i", 9},
          {"h", 10}, {"g", 11}, {"f", 12}, {"e", 13}, {"d", 14}, {"c", 15}, {"b", 16}, {"a", 17}});
    for (int round = 0; round < 3; ++round) {  // again: the key order guessed from the last time
        same({{"id", round}, {"x", 1.5}, {"name", "n"}});
        same({{"id", round}, {"b", 1.5}, {"a", "n"}});  // same first key and size, other order
    }
}

TEST_CASE("a literal's values stay in the literal: its frame only reads them") {
    const std::string text(100, 't');
    Bytes out;
    const std::initializer_list<Map::Field> fields{{"s", text}, {"b", Bytes(70000, 1)}};
    append_packet_frame(out, fields);
    append_packet_frame(out, fields);  // the same literal again: its values are still there
    CHECK(out.size() == 2 * (frame_header_size + encode(Packet(fields)).size()));
}

TEST_CASE("a failed packet append leaves the buffer as it was") {
    Bytes out{1, 2, 3};
    append_packet_frame(out, Packet{{"ok", true}});
    const Bytes before = out;
    CHECK_THROWS_AS(append_frame(out, 1, nullptr, std::size_t{1} << 32), std::length_error);
    CHECK(out == before);
}

TEST_CASE("a frame announced by its header but not yet arrived is incomplete, not an error") {
    FrameDecoder decoder;
    const std::uint8_t header[] = {0x00, 0x00, 0x10, 0x00, 0x01};  // 1 MiB, within the limit
    decoder.feed(header, sizeof header);
    FrameView frame;
    CHECK(decoder.next(frame) == FrameStatus::incomplete);
    CHECK(decoder.needed() == 1u << 20);
    CHECK(decoder.buffered() == frame_header_size);
}

TEST_CASE("a big frame is buffered in one allocation: the whole frame and one read, no doubling") {
    // As a connection reads: at least 64 KiB, at most 1 MiB per read, straight into prepare().
    Bytes stream;
    Bytes body(3u << 20);
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<std::uint8_t>(i * 7);
    append_frame(stream, 1, body.data(), body.size());
    append_packet_frame(stream, Packet{{"after", 1}});
    const std::size_t frame_total = frame_header_size + body.size();

    FrameDecoder decoder;
    std::vector<std::size_t> capacities;
    std::size_t at = 0;
    Collected got;
    while (at < stream.size()) {
        const std::size_t want = std::clamp<std::size_t>(decoder.needed(), 64u << 10, 1u << 20);
        std::uint8_t* into = decoder.prepare(want);
        const std::size_t n = std::min(want, stream.size() - at);
        std::copy(stream.begin() + static_cast<std::ptrdiff_t>(at), stream.begin() + static_cast<std::ptrdiff_t>(at + n), into);
        decoder.commit(n);
        at += n;
        if (got.frames.empty()) capacities.push_back(decoder.capacity());  // until the big frame is taken
        drain(decoder, got);
    }
    REQUIRE(got.frames.size() == 2);
    CHECK(got.frames[0].second == body);
    // The first read (64 KiB) holds the header; the second grows once to the frame plus one
    // more read's room, and that buffer serves every later read, the completing one included.
    REQUIRE(capacities.size() >= 3);
    CHECK(capacities[0] == 64u << 10);
    CHECK(capacities[1] == frame_total + (64u << 10));
    for (std::size_t i = 2; i < capacities.size(); ++i) CHECK(capacities[i] == capacities[1]);
    CHECK(decoder.capacity() <= 64u << 10);  // and given back once it was taken
}

TEST_CASE("a frame fed at once takes exactly its size, and one announced by a header its size and one read") {
    Bytes stream;
    const Bytes body(1u << 20, 3);
    append_frame(stream, 9, body.data(), body.size());
    {
        FrameDecoder decoder;
        decoder.feed(stream.data(), stream.size());
        CHECK(decoder.capacity() == stream.size());
    }
    {
        FrameDecoder decoder;
        decoder.feed(stream.data(), frame_header_size);
        CHECK(decoder.capacity() == frame_header_size);
        decoder.feed(stream.data() + frame_header_size, 100);  // grows once, for all of it
        CHECK(decoder.capacity() == stream.size() + 100);
        decoder.feed(stream.data() + frame_header_size + 100, stream.size() - frame_header_size - 100);
        CHECK(decoder.capacity() == stream.size() + 100);
        FrameView frame;
        REQUIRE(decoder.next(frame) == FrameStatus::ready);
        CHECK(frame.kind == 9);
        CHECK(Bytes(frame.body, frame.body + frame.size) == body);
    }
}

TEST_CASE("a header announcing more than the limit grows nothing beyond what was asked") {
    FrameDecoder decoder(1024);
    const std::uint8_t header[] = {0x00, 0x00, 0x10, 0x00, 0x01};  // 1 MiB > 1 KiB
    decoder.feed(header, sizeof header);
    decoder.prepare(10);
    CHECK(decoder.capacity() == frame_header_size + 10);
    FrameView frame;
    CHECK(decoder.next(frame) == FrameStatus::error);
}

TEST_CASE("a decoder whose frames were all taken holds no buffer, one with a partial frame keeps it") {
    Bytes stream;
    append_packet_frame(stream, Packet{{"a", 1}});
    append_packet_frame(stream, Packet{{"b", 2}});
    FrameDecoder decoder;
    std::uint8_t* into = decoder.prepare(64u << 10);
    std::copy(stream.begin(), stream.end() - 3, into);  // the second frame short of 3 bytes
    decoder.commit(stream.size() - 3);
    CHECK(decoder.capacity() == 64u << 10);
    FrameView frame;
    REQUIRE(decoder.next(frame) == FrameStatus::ready);
    CHECK(decode(frame.body, frame.size)->get<int>("a") == 1);  // valid until the next call
    CHECK(decoder.next(frame) == FrameStatus::incomplete);
    CHECK(decoder.capacity() == 64u << 10);  // the partial frame stays
    decoder.feed(stream.data() + stream.size() - 3, 3);
    REQUIRE(decoder.next(frame) == FrameStatus::ready);
    CHECK(decode(frame.body, frame.size)->get<int>("b") == 2);
    CHECK(decoder.capacity() > 0);
    CHECK(decoder.next(frame) == FrameStatus::incomplete);
    CHECK(decoder.capacity() == 0);  // idle: nothing held
    CHECK(decoder.buffered() == 0);
    CHECK(decoder.needed() == frame_header_size);
    decoder.feed(stream.data(), stream.size());  // and it works again
    REQUIRE(decoder.next(frame) == FrameStatus::ready);
    CHECK(decoder.consumed() == stream.size() + frame_header_size + frame.size);
}

TEST_CASE("a packet frame with borrowed values is the same frame once they are put back") {
    Packet p{{"a", Bytes(70 << 10, 1)}, {"b", "small"}, {"c", std::string(100 << 10, 'c')}, {"d", Bytes(10, 2)}};
    p.set_channel("level");
    Bytes plain;
    append_packet_frame(plain, p);
    Bytes out{9, 9};  // appended after what is there
    std::vector<Borrowed> borrowed;
    append_packet_frame(out, p, borrowed, 64 << 10);
    REQUIRE(borrowed.size() == 2);
    CHECK(borrowed[0].data == p.find("a")->get_if<Bytes>()->data());
    CHECK(out.size() == 2 + plain.size() - (70 << 10) - (100 << 10));
    Bytes whole(out.begin(), out.begin() + 2);
    std::size_t at = 2;
    for (const Borrowed& b : borrowed) {
        whole.insert(whole.end(), out.begin() + static_cast<std::ptrdiff_t>(at), out.begin() + static_cast<std::ptrdiff_t>(b.at));
        whole.insert(whole.end(), b.data, b.data + b.size);
        at = b.at;
    }
    whole.insert(whole.end(), out.begin() + static_cast<std::ptrdiff_t>(at), out.end());
    CHECK(Bytes(whole.begin() + 2, whole.end()) == plain);
}

TEST_CASE("partial() describes the frame in progress, and skip_partial() takes it out of the stream") {
    const Stream s = make_stream();
    // The 70000-byte frame: cut the stream at every interesting point inside it, take the
    // partial frame out, receive its body elsewhere, and go on with the frames after it.
    std::size_t start = 0;
    for (std::size_t i = 0; i < 5; ++i) start += frame_header_size + s.frames[i].second.size();
    const Bytes& big = s.frames[5].second;
    for (const std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{100}, big.size() - 1}) {
        CAPTURE(cut);
        FrameDecoder decoder;
        const std::size_t fed = start + frame_header_size + cut;
        decoder.feed(s.bytes.data(), fed);
        Collected before;
        drain(decoder, before);
        CHECK(before.frames.size() == 5);
        FrameView frame;
        REQUIRE(decoder.partial(frame) == big.size() - cut);
        CHECK(frame.kind == s.frames[5].first);
        CHECK(Bytes(frame.body, frame.body + frame.size) == Bytes(big.begin(), big.begin() + static_cast<long>(cut)));
        decoder.skip_partial();
        CHECK(decoder.buffered() == 0);
        CHECK(decoder.partial(frame) == 0);
        CHECK(decoder.consumed() == start + frame_header_size + big.size());
        // The body's rest goes elsewhere; the decoder gets the bytes after the frame.
        const std::size_t after = start + frame_header_size + big.size();
        decoder.feed(s.bytes.data() + after, s.bytes.size() - after);
        Collected rest;
        drain(decoder, rest);
        REQUIRE(rest.frames.size() == 1);
        CHECK(rest.frames[0] == s.frames[6]);
    }
}

TEST_CASE("partial() is 0 when no frame is partly buffered, and skip_partial() then throws") {
    FrameView frame;
    frame.kind = 42;
    FrameDecoder empty;
    CHECK(empty.partial(frame) == 0);
    CHECK_THROWS_AS(empty.skip_partial(), std::logic_error);

    Bytes stream;
    const Bytes body(10, 1);
    append_frame(stream, 1, body.data(), body.size());
    FrameDecoder short_header;
    short_header.feed(stream.data(), frame_header_size - 1);
    CHECK(short_header.partial(frame) == 0);

    FrameDecoder whole;  // a complete frame is next's, not partial's
    whole.feed(stream.data(), stream.size());
    CHECK(whole.partial(frame) == 0);

    FrameDecoder bad(4);  // a header over the limit is an error, not a frame to read elsewhere
    bad.feed(stream.data(), frame_header_size + 2);
    CHECK(bad.partial(frame) == 0);
    CHECK_THROWS_AS(bad.skip_partial(), std::logic_error);
    CHECK(frame.kind == 42);  // left alone every time
}

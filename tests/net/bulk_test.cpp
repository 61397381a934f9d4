// Big packets go out in fragment frames, so packets of other channels (and heartbeats) pass
// them; a channel stays in order; bad fragments close the connection with protocol_error.
#include "helpers.hpp"
#include "raw_peer.hpp"

#include <sprocket/codec.hpp>

#include <algorithm>

using namespace nettest;
using sprocket::Bytes;
using sprocket::FrameKind;
using sprocket::Packet;

namespace {

constexpr std::size_t big = std::size_t{24} << 20;  // more than loopback's socket buffers hold

template <class Options>
Options roomy() {
    Options options = quick<Options>();
    options.max_frame_size = big + (1 << 20);
    options.max_send_queue = 2 * big;
    options.max_receive_queue = 2 * big;
    options.timeout = std::chrono::seconds(60);  // the raw peer below never sends heartbeats
    return options;
}

Packet on(const std::string& channel, Packet packet) {
    packet.set_channel(channel);
    return packet;
}

Bytes pattern(std::size_t n) {
    Bytes bytes(n);
    for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
    return bytes;
}

Bytes fragment(const Bytes& piece) {
    Bytes out;
    sprocket::append_frame(out, static_cast<std::uint8_t>(FrameKind::fragment), piece.data(), piece.size());
    return out;
}

}  // namespace

TEST_CASE("packets of other channels pass a big packet on the wire, its own channel waits behind it") {
    RawListener listener;
    sprocket::Sprocket client("127.0.0.1", listener.port(), roomy<sprocket::SprocketOptions>());
    RawPeer peer;
    welcome(peer, listener);
    REQUIRE(connect(client));

    const Bytes blob = pattern(big);
    REQUIRE(client.send(on("bulk", Packet{{"blob", blob}})));
    // The peer reads nothing yet: most of the big packet is still queued when these are sent.
    for (int i = 0; i < 3; ++i) REQUIRE(client.send(on("chat", Packet{{"i", i}})));
    REQUIRE(client.send(on("bulk", Packet{{"after", true}})));

    // On the wire: fragments, the chat packets between two of them, the big packet's last
    // fragment, then the small packet of its channel.
    std::vector<std::string> order;
    Bytes assembly;
    std::optional<Packet> whole;
    while (order.size() < 5) {
        const auto frame = peer.next_frame();
        REQUIRE(frame);
        if (frame->kind == static_cast<std::uint8_t>(FrameKind::fragment)) {
            assembly.insert(assembly.end(), frame->body.begin(), frame->body.end());
            REQUIRE(assembly.size() <= sprocket::frame_header_size + big + 64);
            // The inner frame's header: its body size (uint32 LE), then its kind.
            std::size_t size = 0;
            for (std::size_t i = 0; i < 4 && i < assembly.size(); ++i) size |= std::size_t{assembly[i]} << (8 * i);
            if (assembly.size() == sprocket::frame_header_size + size) {
                REQUIRE(assembly[4] == static_cast<std::uint8_t>(FrameKind::packet));
                auto decoded = sprocket::decode(assembly.data() + sprocket::frame_header_size, size);
                REQUIRE(decoded);
                whole = std::move(decoded).packet();
                order.push_back("big");
            }
            continue;
        }
        REQUIRE(frame->kind == static_cast<std::uint8_t>(FrameKind::packet));
        auto decoded = sprocket::decode(frame->body);
        REQUIRE(decoded);
        const Packet p = std::move(decoded).packet();
        order.push_back(p.channel() == "chat" ? "chat " + std::to_string(p.get<int>("i")) : "bulk after");
    }
    CHECK(order == std::vector<std::string>{"chat 0", "chat 1", "chat 2", "big", "bulk after"});
    REQUIRE(whole);
    CHECK(whole->channel() == "bulk");
    CHECK(whole->get<Bytes>("blob") == blob);
}

TEST_CASE("a big packet arrives whole between smaller ones, each channel in order") {
    sprocket::Servo server(0, roomy<sprocket::ServoOptions>());
    sprocket::Sprocket client("127.0.0.1", server.port(), roomy<sprocket::SprocketOptions>());
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));
    const Bytes blob = pattern(big / 3);
    REQUIRE(client.send(on("bulk", Packet{{"seq", 0}, {"blob", blob}})));
    for (int i = 0; i < 50; ++i) REQUIRE(client.send(on("chat", Packet{{"seq", i}})));
    REQUIRE(client.send(on("bulk", Packet{{"seq", 1}})));
    const auto got = receive(server, 52);
    REQUIRE(got.size() == 52);
    std::vector<int> chat, bulk;
    for (const auto& m : got) (m.packet.channel() == "chat" ? chat : bulk).push_back(m.packet.get<int>("seq"));
    CHECK(bulk == std::vector<int>{0, 1});
    REQUIRE(chat.size() == 50);
    CHECK(std::is_sorted(chat.begin(), chat.end()));
    const auto blob_at = std::find_if(got.begin(), got.end(), [](const auto& m) { return m.packet.has("blob"); });
    REQUIRE(blob_at != got.end());
    CHECK(blob_at->packet.get<Bytes>("blob") == blob);
}

TEST_CASE("fragments that break the rules close the connection with protocol_error") {
    struct Case {
        const char* name;
        Bytes frames;
        const char* detail;
    };
    auto header = [](std::uint32_t size, std::uint8_t kind) {
        Bytes h;
        for (int i = 0; i < 4; ++i) h.push_back(static_cast<std::uint8_t>(size >> (8 * i)));
        h.push_back(kind);
        return h;
    };
    auto padded = [](Bytes bytes, std::size_t size) {
        bytes.resize(size, 0);
        return bytes;
    };
    auto both = [](Bytes first, const Bytes& second) {
        first.insert(first.end(), second.begin(), second.end());
        return first;
    };
    const auto packet_kind = static_cast<std::uint8_t>(FrameKind::packet);
    // Big fragments are read straight into the assembly buffer once their start is in: the
    // same rules hold there, found before the rest of the fragment is read.
    const Case cases[] = {
        {"over max_frame_size", fragment(header(1u << 30, packet_kind)), "over max_frame_size"},
        {"nested", fragment(header(10, static_cast<std::uint8_t>(FrameKind::fragment))), "inside a fragment"},
        {"overrun", fragment(padded(header(4, packet_kind), 15)), "longer than their frame"},
        {"big fragment over max_frame_size", fragment(padded(header(1u << 30, packet_kind), 300 << 10)),
         "over max_frame_size"},
        {"big fragment overrun", fragment(padded(header(100 << 10, packet_kind), 300 << 10)), "longer than their frame"},
        {"big fragments overrun",
         both(fragment(padded(header(200 << 10, packet_kind), 150 << 10)), fragment(Bytes(100 << 10, 0))),
         "longer than their frame"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        sprocket::Servo server(0, quick_server());
        RawPeer peer;
        REQUIRE(peer.connect(server.port()));
        REQUIRE(peer.join() != 0);
        REQUIRE(peer.send(c.frames));
        const auto left = next_event(server, sprocket::EventKind::left);
        CHECK(left.reason == sprocket::CloseReason::protocol_error);
        CHECK(left.detail.find(c.detail) != std::string::npos);
        CHECK(peer.wait_closed());
    }
}

TEST_CASE("a big frame cut into fragments of any size, other frames between them, arrives whole") {
    sprocket::Servo server(0, roomy<sprocket::ServoOptions>());
    RawPeer peer;
    REQUIRE(peer.connect(server.port()));
    REQUIRE(peer.join() != 0);
    const Packet big_packet = on("level", Packet{{"a", 1}, {"blob", pattern(3 << 20)}, {"z", "end"}});
    Bytes frame;
    sprocket::append_packet_frame(frame, big_packet);
    // Pieces cut inside the inner header, big ones (read past the decoder) and tiny ones.
    std::size_t at = 0;
    int small = 0;
    for (const std::size_t size : {std::size_t{3}, std::size_t{2}, std::size_t{70000}, std::size_t{1},
                                   std::size_t{1} << 20, std::size_t{65535}, frame.size()}) {
        const std::size_t n = std::min(size, frame.size() - at);
        REQUIRE(peer.send(fragment(Bytes(frame.begin() + static_cast<long>(at), frame.begin() + static_cast<long>(at + n)))));
        at += n;
        Bytes between;
        sprocket::append_packet_frame(between, on("chat", Packet{{"i", small++}}));
        REQUIRE(peer.send(between));
        if (at == frame.size()) break;
    }
    const auto got = receive(server, small + 1);
    REQUIRE(got.size() == static_cast<std::size_t>(small + 1));
    // In wire order: the big packet's last fragment went before the last chat packet.
    CHECK(got[got.size() - 2].packet == big_packet);
    std::vector<int> chat;
    for (const auto& m : got)
        if (m.packet.channel() == "chat") chat.push_back(m.packet.get<int>("i"));
    CHECK(chat.size() == static_cast<std::size_t>(small));
    CHECK(std::is_sorted(chat.begin(), chat.end()));
    CHECK(got.back().packet.get<int>("i") == small - 1);
}

TEST_CASE("a packet sent by move goes out from its own values: big ones in any place arrive whole") {
    sprocket::Servo server(0, roomy<sprocket::ServoOptions>());
    sprocket::Sprocket client("127.0.0.1", server.port(), roomy<sprocket::SprocketOptions>());
    REQUIRE(connect(client));
    REQUIRE(until_clients(server, 1));
    const Bytes level = pattern(big / 4);
    const std::string notes(300 << 10, 'n');  // a big string is sent from where it is too
    Packet packet = on("level", Packet{{"a", level}, {"b", "small"}, {"c", notes}, {"d", sprocket::List{1, level}}});
    const Packet expected = packet;
    REQUIRE(server.send(server.clients().front().id, std::move(packet)));
    CHECK(packet.empty());                    // its values went with it...
    CHECK(packet.channel() == "level");       // ...its channel stayed
    const auto got = receive(client, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0] == expected);
    // A small packet sent by move is left as it was.
    Packet small = on("chat", Packet{{"text", "hi"}});
    REQUIRE(client.send(std::move(small)));
    CHECK(small.get<std::string>("text") == "hi");  // NOLINT(bugprone-use-after-move): documented to stay
    const auto echoed = receive(server, 1);
    REQUIRE(echoed.size() == 1);
    CHECK(echoed[0].packet.get<std::string>("text") == "hi");
}

// Control frames (hello, welcome, reject, ping, pong, goodbye): the exact bytes of the examples in
// docs/PROTOCOL.md section 8.11, read back by the parsers, and malformed bodies refused.
#include <sprocket/detail/control.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

using namespace sprocket;
using namespace sprocket::detail;

namespace {

// The examples of docs/PROTOCOL.md section 8.11, frame header included.
const Bytes hello_bytes{0x10, 0x00, 0x00, 0x00, 0x02, 0x53, 0x50, 0x52, 0x4b, 0x01, 0x00,
                        0x08, 0x73, 0x70, 0x72, 0x6f, 0x63, 0x6b, 0x65, 0x74, 0x00};
const Bytes welcome_bytes{0x06, 0x00, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00};
const Bytes reject_bytes{0x0d, 0x00, 0x00, 0x00, 0x04, 0x01, 0x0b, 0x73, 0x65,
                         0x72, 0x76, 0x65, 0x72, 0x20, 0x66, 0x75, 0x6c, 0x6c};
const Bytes ping_bytes{0x08, 0x00, 0x00, 0x00, 0x05, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01};
const Bytes pong_bytes{0x08, 0x00, 0x00, 0x00, 0x06, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01};
const Bytes goodbye_bytes{0x0a, 0x00, 0x00, 0x00, 0x07, 0x07, 0x08, 0x63,
                          0x68, 0x65, 0x61, 0x74, 0x69, 0x6e, 0x67};

constexpr std::uint64_t example_stamp = 0x0102030405060708u;

// A frame's body as its own buffer, so a parser reading one byte too far is an ASan error.
struct Body {
    std::uint8_t kind = 0;
    Bytes bytes;
    FrameView view() const { return FrameView{kind, bytes.empty() ? nullptr : bytes.data(), bytes.size()}; }
};

// Splits one whole frame with the real decoder: exactly one frame, nothing left over.
Body split(const Bytes& frame) {
    FrameDecoder decoder;
    decoder.feed(frame.data(), frame.size());
    FrameView view;
    REQUIRE(decoder.next(view) == FrameStatus::ready);
    Body body{view.kind, Bytes(view.body, view.body + view.size)};
    CHECK(decoder.next(view) == FrameStatus::incomplete);
    CHECK(decoder.buffered() == 0);
    return body;
}

Body truncated(const Body& body, std::size_t size) {
    return Body{body.kind, Bytes(body.bytes.begin(), body.bytes.begin() + static_cast<std::ptrdiff_t>(size))};
}

Body with_trailing_byte(Body body) {
    body.bytes.push_back(0x00);
    return body;
}

// Every strict prefix of the body and the body plus one byte are refused by `parse`.
template <class Parse>
void check_length_is_exact(const Bytes& frame, Parse parse) {
    const Body body = split(frame);
    REQUIRE(parse(body.view()).has_value());
    for (std::size_t size = 0; size < body.bytes.size(); ++size) {
        CAPTURE(size);
        CHECK_FALSE(parse(truncated(body, size).view()).has_value());
    }
    CHECK_FALSE(parse(with_trailing_byte(body).view()).has_value());
}

}  // namespace

TEST_CASE("hello: magic, version, application, password") {
    Bytes out;
    append_hello(out, Hello{protocol_version, "sprocket", ""});
    CHECK(out == hello_bytes);

    const Body body = split(out);
    CHECK(body.kind == static_cast<std::uint8_t>(FrameKind::hello));
    const auto hello = parse_hello(body.view());
    REQUIRE(hello.has_value());
    CHECK(hello->version == 1);
    CHECK(hello->application == "sprocket");
    CHECK(hello->password.empty());
}

TEST_CASE("hello and welcome may say the largest frame their side accepts") {
    Bytes hello_out;
    append_hello(hello_out, Hello{protocol_version, "sprocket", "", 256u << 20});
    CHECK(hello_out.size() == hello_bytes.size() + 4);
    CHECK(Bytes(hello_out.end() - 4, hello_out.end()) == Bytes{0x00, 0x00, 0x00, 0x10});
    const auto hello = parse_hello(split(hello_out).view());
    REQUIRE(hello.has_value());
    CHECK(hello->max_frame == (256u << 20));
    CHECK(parse_hello(split(hello_bytes).view())->max_frame == 0);  // not said: 1 MiB assumed

    Bytes welcome_out;
    append_welcome(welcome_out, Welcome{9, protocol_version, 1000});
    const auto welcome = parse_welcome(split(welcome_out).view());
    REQUIRE(welcome.has_value());
    CHECK(welcome->client == 9);
    CHECK(welcome->max_frame == 1000);

    // Anything but the field whole is malformed: 1 to 3 bytes, or more than 4.
    for (std::size_t extra : {1u, 3u, 5u}) {
        Bytes cut = hello_bytes;
        cut.insert(cut.end(), extra, 0x01);
        cut[0] = static_cast<std::uint8_t>(cut.size() - frame_header_size);
        CHECK_FALSE(parse_hello(split(cut).view()).has_value());
    }
}

TEST_CASE("welcome: client id, version") {
    Bytes out;
    append_welcome(out, Welcome{1, protocol_version});
    CHECK(out == welcome_bytes);

    const Body body = split(out);
    CHECK(body.kind == static_cast<std::uint8_t>(FrameKind::welcome));
    const auto welcome = parse_welcome(body.view());
    REQUIRE(welcome.has_value());
    CHECK(welcome->client == 1);
    CHECK(welcome->version == 1);
}

TEST_CASE("reject: code, reason text") {
    Bytes out;
    append_reject(out, Reject{RejectCode::server_full, "server full"});
    CHECK(out == reject_bytes);

    const Body body = split(out);
    CHECK(body.kind == static_cast<std::uint8_t>(FrameKind::reject));
    const auto reject = parse_reject(body.view());
    REQUIRE(reject.has_value());
    CHECK(reject->code == RejectCode::server_full);
    CHECK(reject->text == "server full");
}

TEST_CASE("ping and pong: the same 8-byte stamp, different kinds") {
    Bytes ping;
    append_ping(ping, FrameKind::ping, example_stamp);
    CHECK(ping == ping_bytes);
    Bytes pong;
    append_ping(pong, FrameKind::pong, example_stamp);
    CHECK(pong == pong_bytes);

    const Body ping_body = split(ping);
    CHECK(ping_body.kind == static_cast<std::uint8_t>(FrameKind::ping));
    CHECK(parse_ping(ping_body.view()) == std::optional<std::uint64_t>(example_stamp));
    const Body pong_body = split(pong);
    CHECK(pong_body.kind == static_cast<std::uint8_t>(FrameKind::pong));
    CHECK(parse_ping(pong_body.view()) == std::optional<std::uint64_t>(example_stamp));
}

TEST_CASE("goodbye: reason, text") {
    Bytes out;
    append_goodbye(out, Goodbye{CloseReason::kicked, "cheating"});
    CHECK(out == goodbye_bytes);

    const Body body = split(out);
    CHECK(body.kind == static_cast<std::uint8_t>(FrameKind::goodbye));
    const auto goodbye = parse_goodbye(body.view());
    REQUIRE(goodbye.has_value());
    CHECK(goodbye->reason == CloseReason::kicked);
    CHECK(goodbye->text == "cheating");
}

TEST_CASE("control frames append to what the buffer already holds") {
    Bytes out{0xee};
    append_welcome(out, Welcome{1, protocol_version});
    append_ping(out, FrameKind::ping, example_stamp);
    Bytes expected{0xee};
    expected.insert(expected.end(), welcome_bytes.begin(), welcome_bytes.end());
    expected.insert(expected.end(), ping_bytes.begin(), ping_bytes.end());
    CHECK(out == expected);
}

TEST_CASE("a body cut short anywhere, or with a byte too many, is refused") {
    SUBCASE("hello") { check_length_is_exact(hello_bytes, parse_hello); }
    SUBCASE("hello with a password") {
        Bytes frame;
        append_hello(frame, Hello{protocol_version, "sprocket", "hunter2"});
        check_length_is_exact(frame, parse_hello);
    }
    SUBCASE("welcome") { check_length_is_exact(welcome_bytes, parse_welcome); }
    SUBCASE("reject") { check_length_is_exact(reject_bytes, parse_reject); }
    SUBCASE("ping") { check_length_is_exact(ping_bytes, parse_ping); }
    SUBCASE("pong") { check_length_is_exact(pong_bytes, parse_ping); }
    SUBCASE("goodbye") { check_length_is_exact(goodbye_bytes, parse_goodbye); }
    SUBCASE("goodbye with no text") {
        Bytes frame;
        append_goodbye(frame, Goodbye{CloseReason::closed, ""});
        CHECK(frame == Bytes{0x02, 0x00, 0x00, 0x00, 0x07, 0x01, 0x00});
        check_length_is_exact(frame, parse_goodbye);
    }
}

TEST_CASE("an empty body is refused by every parser") {
    const FrameView empty{};
    CHECK_FALSE(parse_hello(empty).has_value());
    CHECK_FALSE(parse_welcome(empty).has_value());
    CHECK_FALSE(parse_reject(empty).has_value());
    CHECK_FALSE(parse_ping(empty).has_value());
    CHECK_FALSE(parse_goodbye(empty).has_value());
}

TEST_CASE("a hello whose magic is not SPRK is refused") {
    const Body good = split(hello_bytes);
    for (std::size_t i = 0; i < 4; ++i) {
        CAPTURE(i);
        Body bad = good;
        bad.bytes[i] ^= 0x20;  // "sPRK", "SpRK", ...
        CHECK_FALSE(parse_hello(bad.view()).has_value());
    }
}

TEST_CASE("a hello with another version parses: the server rejects it, not the parser") {
    Body body = split(hello_bytes);
    body.bytes[4] = 0x02;
    const auto hello = parse_hello(body.view());
    REQUIRE(hello.has_value());
    CHECK(hello->version == 2);
}

TEST_CASE("a short string whose length runs past the body is refused") {
    Body hello = split(hello_bytes);
    hello.bytes[6] = 0x09;  // application length 9, 8 bytes follow, then the password length
    CHECK_FALSE(parse_hello(hello.view()).has_value());

    Body reject = split(reject_bytes);
    reject.bytes[1] = 0x0c;
    CHECK_FALSE(parse_reject(reject.view()).has_value());

    Body goodbye = split(goodbye_bytes);
    goodbye.bytes[1] = 0xff;
    CHECK_FALSE(parse_goodbye(goodbye.view()).has_value());
}

TEST_CASE("a welcome for client 0 is refused") {
    Bytes frame;
    append_welcome(frame, Welcome{0, protocol_version});
    CHECK(frame == Bytes{0x06, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00});
    CHECK_FALSE(parse_welcome(split(frame).view()).has_value());
}

TEST_CASE("client ids and stamps use every byte, little-endian") {
    Bytes welcome;
    append_welcome(welcome, Welcome{0xfedcba98u, protocol_version});
    CHECK(welcome == Bytes{0x06, 0x00, 0x00, 0x00, 0x03, 0x98, 0xba, 0xdc, 0xfe, 0x01, 0x00});
    const auto parsed = parse_welcome(split(welcome).view());
    REQUIRE(parsed.has_value());
    CHECK(parsed->client == 0xfedcba98u);

    Bytes ping;
    append_ping(ping, FrameKind::ping, 0xffeeddccbbaa9988u);
    CHECK(parse_ping(split(ping).view()) == std::optional<std::uint64_t>(0xffeeddccbbaa9988u));
}

TEST_CASE("goodbye codes this build does not know mean closed by peer") {
    for (const int code : {0x00, 0x0a, 0x80, 0xff}) {
        CAPTURE(code);
        const Body body{static_cast<std::uint8_t>(FrameKind::goodbye), Bytes{static_cast<std::uint8_t>(code), 0x00}};
        const auto goodbye = parse_goodbye(body.view());
        REQUIRE(goodbye.has_value());
        CHECK(goodbye->reason == CloseReason::closed_by_peer);
    }
    for (std::uint8_t code = 1; code <= 9; ++code) {
        CAPTURE(int{code});
        const Body body{static_cast<std::uint8_t>(FrameKind::goodbye), Bytes{code, 0x00}};
        const auto goodbye = parse_goodbye(body.view());
        REQUIRE(goodbye.has_value());
        CHECK(static_cast<std::uint8_t>(goodbye->reason) == code);
    }
}

TEST_CASE("reject and goodbye texts are made printable, and hello strings are kept as sent") {
    const Bytes text{'a', 0x00, 0x1f, 0x7f, 0xc3, 0xa9, 'z'};  // NUL, US, DEL and UTF-8 "é"
    Bytes reject_body{0x01, static_cast<std::uint8_t>(text.size())};
    reject_body.insert(reject_body.end(), text.begin(), text.end());
    const auto reject = parse_reject(Body{static_cast<std::uint8_t>(FrameKind::reject), reject_body}.view());
    REQUIRE(reject.has_value());
    CHECK(reject->text == "a?????z");

    Bytes goodbye_body{0x07, static_cast<std::uint8_t>(text.size())};
    goodbye_body.insert(goodbye_body.end(), text.begin(), text.end());
    const auto goodbye = parse_goodbye(Body{static_cast<std::uint8_t>(FrameKind::goodbye), goodbye_body}.view());
    REQUIRE(goodbye.has_value());
    CHECK(goodbye->text == "a?????z");

    const std::string raw(text.begin(), text.end());
    Bytes frame;
    append_hello(frame, Hello{protocol_version, raw, raw});
    const auto hello = parse_hello(split(frame).view());
    REQUIRE(hello.has_value());
    CHECK(hello->application == raw);
    CHECK(hello->password == raw);
}

TEST_CASE("strings longer than 255 bytes are cut to 255 on the wire") {
    const std::string long_text(300, 'x');
    Bytes frame;
    append_goodbye(frame, Goodbye{CloseReason::kicked, long_text});
    CHECK(frame.size() == frame_header_size + 1 + 1 + 255);
    CHECK(frame[6] == 0xff);
    const auto goodbye = parse_goodbye(split(frame).view());
    REQUIRE(goodbye.has_value());
    CHECK(goodbye->text == std::string(255, 'x'));

    Bytes hello;
    append_hello(hello, Hello{protocol_version, long_text, long_text});
    CHECK(hello.size() == frame_header_size + 4 + 2 + 2 * (1 + 255));
    const auto parsed = parse_hello(split(hello).view());
    REQUIRE(parsed.has_value());
    CHECK(parsed->application == std::string(255, 'x'));
    CHECK(parsed->password == std::string(255, 'x'));
}

TEST_CASE("same_secret: equal only when every byte and the length match") {
    using sprocket::detail::same_secret;
    CHECK(same_secret("", ""));
    CHECK(same_secret("correct horse", "correct horse"));
    CHECK_FALSE(same_secret("correct horse", "correct hors"));
    CHECK_FALSE(same_secret("correct hors", "correct horse"));
    CHECK_FALSE(same_secret("", "x"));
    CHECK_FALSE(same_secret("Correct horse", "correct horse"));
    CHECK_FALSE(same_secret("correct horsE", "correct horse"));
    CHECK_FALSE(same_secret(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
    CHECK_FALSE(same_secret(std::string_view("a\0", 2), "a"));  // a trailing zero byte is not "nothing"
}

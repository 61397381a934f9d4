#include <sprocket/detail/control.hpp>

#include <algorithm>

namespace sprocket::detail {
namespace {

// A little-endian writer for one frame body.
class BodyWriter {
public:
    void u8(std::uint8_t v) { bytes_.push_back(v); }
    void u16(std::uint16_t v) { uint(v, 2); }
    void u32(std::uint32_t v) { uint(v, 4); }
    void u64(std::uint64_t v) { uint(v, 8); }
    void raw(const std::uint8_t* p, std::size_t n) { bytes_.insert(bytes_.end(), p, p + n); }
    void short_string(const std::string& s) {
        const std::size_t n = std::min(s.size(), max_short_string);
        u8(static_cast<std::uint8_t>(n));
        raw(reinterpret_cast<const std::uint8_t*>(s.data()), n);
    }
    void finish(Bytes& out, FrameKind kind) const {
        append_frame(out, static_cast<std::uint8_t>(kind), bytes_.data(), bytes_.size());
    }

private:
    void uint(std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) bytes_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    Bytes bytes_;
};

// A bounds-checked little-endian reader; any read past the end sets `bad`.
class BodyReader {
public:
    explicit BodyReader(const FrameView& f) : p_(f.body), left_(f.size) {}
    std::uint64_t uint(int n) {
        if (!take(static_cast<std::size_t>(n))) return 0;
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i) v |= std::uint64_t{p_[i - n]} << (8 * i);
        return v;
    }
    std::string short_string() {
        const auto n = static_cast<std::size_t>(uint(1));
        if (!take(n)) return {};
        return std::string(reinterpret_cast<const char*>(p_ - n), n);
    }
    bool magic() {
        if (!take(4)) return false;
        return std::equal(p_ - 4, p_, protocol_magic);
    }
    std::size_t left() const { return left_; }
    /// True when every read was in bounds and nothing is left over.
    bool complete() const { return !bad_ && left_ == 0; }

private:
    bool take(std::size_t n) {
        if (bad_ || n > left_) {
            bad_ = true;
            return false;
        }
        p_ += n;
        left_ -= n;
        return true;
    }
    const std::uint8_t* p_;
    std::size_t left_;
    bool bad_ = false;
};

}  // namespace

void append_hello(Bytes& out, const Hello& hello) {
    BodyWriter w;
    w.raw(protocol_magic, sizeof protocol_magic);
    w.u16(hello.version);
    w.short_string(hello.application);
    w.short_string(hello.password);
    if (hello.max_frame != 0) w.u32(hello.max_frame);
    w.finish(out, FrameKind::hello);
}

void append_welcome(Bytes& out, const Welcome& welcome) {
    BodyWriter w;
    w.u32(welcome.client);
    w.u16(welcome.version);
    if (welcome.max_frame != 0) w.u32(welcome.max_frame);
    w.finish(out, FrameKind::welcome);
}

void append_reject(Bytes& out, const Reject& reject) {
    BodyWriter w;
    w.u8(static_cast<std::uint8_t>(reject.code));
    w.short_string(reject.text);
    w.finish(out, FrameKind::reject);
}

void append_ping(Bytes& out, FrameKind kind, std::uint64_t stamp) {
    BodyWriter w;
    w.u64(stamp);
    w.finish(out, kind);
}

void append_goodbye(Bytes& out, const Goodbye& goodbye) {
    BodyWriter w;
    w.u8(static_cast<std::uint8_t>(goodbye.reason));
    w.short_string(goodbye.text);
    w.finish(out, FrameKind::goodbye);
}

std::optional<Hello> parse_hello(const FrameView& frame) {
    BodyReader r(frame);
    if (!r.magic()) return std::nullopt;
    Hello h;
    h.version = static_cast<std::uint16_t>(r.uint(2));
    h.application = r.short_string();
    h.password = r.short_string();
    if (r.left() == 4) h.max_frame = static_cast<std::uint32_t>(r.uint(4));
    if (!r.complete()) return std::nullopt;
    return h;
}

std::optional<Welcome> parse_welcome(const FrameView& frame) {
    BodyReader r(frame);
    Welcome w;
    w.client = static_cast<ClientId>(r.uint(4));
    w.version = static_cast<std::uint16_t>(r.uint(2));
    if (r.left() == 4) w.max_frame = static_cast<std::uint32_t>(r.uint(4));
    if (!r.complete() || w.client == 0) return std::nullopt;
    return w;
}

std::optional<Reject> parse_reject(const FrameView& frame) {
    BodyReader r(frame);
    Reject j;
    j.code = static_cast<RejectCode>(r.uint(1));
    j.text = printable(r.short_string());
    if (!r.complete()) return std::nullopt;
    return j;
}

std::optional<std::uint64_t> parse_ping(const FrameView& frame) {
    BodyReader r(frame);
    const std::uint64_t stamp = r.uint(8);
    if (!r.complete()) return std::nullopt;
    return stamp;
}

std::optional<Goodbye> parse_goodbye(const FrameView& frame) {
    BodyReader r(frame);
    Goodbye g;
    const auto code = static_cast<std::uint8_t>(r.uint(1));
    g.text = printable(r.short_string());
    if (!r.complete()) return std::nullopt;
    // A code this build does not know still means the peer is leaving.
    g.reason = code >= 1 && code <= static_cast<std::uint8_t>(CloseReason::connect_failed)
                   ? static_cast<CloseReason>(code)
                   : CloseReason::closed_by_peer;
    return g;
}

std::string printable(std::string text) {
    for (char& c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) c = '?';
    }
    return text;
}

bool same_secret(std::string_view given, std::string_view expected) noexcept {
    // Every byte of the longer one is looked at; differences, and a length difference, are
    // OR-ed together instead of returning at the first.
    const std::size_t n = std::max(given.size(), expected.size());
    unsigned diff = given.size() == expected.size() ? 0u : 1u;
    for (std::size_t i = 0; i < n; ++i) {
        const auto a = i < given.size() ? static_cast<unsigned char>(given[i]) : 0u;
        const auto b = i < expected.size() ? static_cast<unsigned char>(expected[i]) : 0u;
        diff |= a ^ b;
    }
    return diff == 0;
}

}  // namespace sprocket::detail

// check_fast: check's first pass (codec.cpp), for packets laid out as encode writes them. One
// walk with pointer reads, no archive, no exceptions: the footprint check would count, or
// nothing at all when the bytes are anything else, malformed or merely unusual (keys out of
// order, a varint of 10 bytes), for check's own walk to judge.
#include <sprocket/codec.hpp>

#include "map_access.hpp"
#include "tags.hpp"

#include <algorithm>

namespace sprocket {

namespace {

class Walk {
public:
    Walk(const std::uint8_t* at, const std::uint8_t* end, std::size_t max_depth) noexcept
        : at_(at), end_(end), max_depth_(max_depth) {}

    bool done() const noexcept { return at_ == end_; }
    std::size_t held() const noexcept { return held_; }

    // A varint of at most 9 bytes (check also takes a 10th, within 64 bits).
    bool varint(std::uint64_t& v) noexcept {
        v = 0;
        for (unsigned shift = 0; shift < 63; shift += 7) {
            if (at_ == end_) return false;
            const std::uint8_t byte = *at_++;
            v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return true;
        }
        return false;
    }
    // A size of things of at least a byte each, that fit in what is left. (check's tighter
    // test, which also counts what enclosing containers still need, holds for every complete
    // packet: each of those things is in the bytes after this one.)
    bool size(std::size_t& n) noexcept {
        std::uint64_t v;
        if (!varint(v) || v > left()) return false;
        n = static_cast<std::size_t>(v);
        return true;
    }
    bool text(std::string_view& s) noexcept {
        std::size_t n;
        if (!size(n)) return false;
        s = std::string_view(reinterpret_cast<const char*>(at_), n);
        at_ += n;
        return true;
    }

    bool value(std::size_t depth) noexcept {
        if (at_ == end_) return false;
        std::size_t n;
        switch (*at_++) {
            case detail::tag_null:
            case detail::tag_false:
            case detail::tag_true: return true;
            case detail::tag_int: {
                std::uint64_t v;
                return varint(v);
            }
            case detail::tag_real32: return skip(4);
            case detail::tag_real64: return skip(8);
            case detail::tag_string:
                if (!size(n)) return false;
                at_ += n;
                held_ += detail::string_heap(n);
                return true;
            case detail::tag_bytes:
            case detail::tag_object:
                if (!size(n)) return false;
                at_ += n;
                held_ += n;
                return true;
            case detail::tag_list:
                if (depth == max_depth_ || !size(n)) return false;
                held_ += n * sizeof(Value);
                for (std::size_t i = 0; i < n; ++i)
                    if (!value(depth + 1)) return false;
                return true;
            case detail::tag_map: return depth != max_depth_ && entries(depth + 1);
            default: return false;
        }
    }

    // A map's count and entries, keys strictly in order (a repeat or a step back: check's).
    bool entries(std::size_t depth) noexcept {
        std::size_t n;
        if (!size(n)) return false;
        const std::size_t reserve = std::min(n, left() / 3 + 1);  // as read_entries reserves
        const KeyLess less;
        std::string_view last, key;
        for (std::size_t i = 0; i < n; ++i) {
            if (!text(key) || (i != 0 && !less(last, key))) return false;
            last = key;
            held_ += detail::string_heap(key.size());
            if (!value(depth)) return false;
        }
        held_ += MapAccess::reserved_bytes(reserve, n);
        return true;
    }

private:
    std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - at_); }
    bool skip(std::size_t n) noexcept {
        if (n > left()) return false;
        at_ += n;
        return true;
    }

    const std::uint8_t* at_;
    const std::uint8_t* const end_;
    const std::size_t max_depth_;
    std::size_t held_ = 0;
};

}  // namespace

namespace detail {

std::optional<CheckResult> check_fast(const std::uint8_t* data, std::size_t size, std::size_t max_depth) noexcept {
    Walk walk(data, data + size, max_depth);
    std::string_view channel;
    if (!walk.text(channel) || !walk.entries(0) || !walk.done()) return std::nullopt;
    return CheckResult(sizeof(Packet) + string_heap(channel.size()) + walk.held(), channel);
}

}  // namespace detail

}  // namespace sprocket

// decode_checked: the codec's grammar (codec.cpp) read again, for bytes check() accepted. It
// keeps a bounds check on every read, so it is safe on any bytes; what it leaves out is the
// rest of check's work, which is where decode's time goes beyond building the packet.
#include <sprocket/codec.hpp>

#include "map_access.hpp"
#include "tags.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace sprocket {

namespace {

[[noreturn]] void not_checked() {
    throw std::logic_error("[sprocket.packet] decode_checked: bytes that check() does not accept");
}

const std::size_t max_depth = DecodeLimits{}.max_depth;

std::uint8_t read_byte(const std::uint8_t*& at, const std::uint8_t* end) {
    if (at == end) not_checked();
    return *at++;
}

std::uint64_t read_varint(const std::uint8_t*& at, const std::uint8_t* end) {
    std::uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        const std::uint8_t byte = read_byte(at, end);
        v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) return v;
    }
    not_checked();
}

// A size or count: each thing counted takes at least one byte of what is left.
std::size_t read_size(const std::uint8_t*& at, const std::uint8_t* end) {
    const std::uint64_t n = read_varint(at, end);
    if (n > static_cast<std::uint64_t>(end - at)) not_checked();
    return static_cast<std::size_t>(n);
}

const std::uint8_t* take(const std::uint8_t*& at, const std::uint8_t* end, std::size_t n) {
    if (n > static_cast<std::size_t>(end - at)) not_checked();
    const std::uint8_t* from = at;
    at += n;
    return from;
}

void read_value(const std::uint8_t*& at, const std::uint8_t* end, Value& out, std::size_t depth) {
    Value::Storage& s = out.storage();
    const std::uint8_t tag = read_byte(at, end);
    switch (tag) {
        case detail::tag_null: return;
        case detail::tag_false: s.emplace<bool>(false); return;
        case detail::tag_true: s.emplace<bool>(true); return;
        case detail::tag_int: s.emplace<std::int64_t>(detail::unzigzag(read_varint(at, end))); return;
        case detail::tag_real32: {
            float f;
            std::memcpy(&f, take(at, end, sizeof f), sizeof f);
            s.emplace<double>(f);
            return;
        }
        case detail::tag_real64: {
            double d;
            std::memcpy(&d, take(at, end, sizeof d), sizeof d);
            s.emplace<double>(d);
            return;
        }
        case detail::tag_string: {
            const std::size_t n = read_size(at, end);
            s.emplace<std::string>(reinterpret_cast<const char*>(take(at, end, n)), n);
            return;
        }
        case detail::tag_bytes:
        case detail::tag_object: {
            const std::size_t n = read_size(at, end);
            const std::uint8_t* p = take(at, end, n);
            if (tag == detail::tag_bytes) s.emplace<Bytes>(p, p + n);
            else s.emplace<Object>(Object{Bytes(p, p + n)});
            return;
        }
        case detail::tag_list: {
            if (depth == max_depth) not_checked();
            const std::size_t n = read_size(at, end);
            List& list = s.emplace<List>();
            list.reserve(n);
            for (std::size_t i = 0; i < n; ++i) read_value(at, end, list.emplace_back(), depth + 1);
            return;
        }
        case detail::tag_map:
            if (depth == max_depth) not_checked();
            MapAccess::build_checked(at, end, s.emplace<Map>(), depth + 1);
            return;
        default: not_checked();
    }
}

}  // namespace

void MapAccess::build_checked(const std::uint8_t*& at, const std::uint8_t* end, Map& map, std::size_t depth) {
    const std::size_t n = read_size(at, end);
    map.reserve_exact(n);
    bool sorted = true;  // as encode writes them; check() accepted any order without repeats
    std::string_view last;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t key_size = read_size(at, end);
        const std::string_view key(reinterpret_cast<const char*>(take(at, end, key_size)), key_size);
        if (i != 0 && !KeyLess()(last, key)) sorted = false;
        last = key;
        Map::Slot* slot = map.acquire();
        Map::Entry* e = ::new (static_cast<void*>(&slot->entry))  // in the slot's storage
            Map::Entry(std::piecewise_construct, std::forward_as_tuple(key), std::forward_as_tuple());
        map.index_[map.size_++] = e;  // from here on the map owns the entry
        read_value(at, end, e->second, depth);
    }
    if (!sorted) {
        std::sort(map.index_, map.index_ + map.size_,
                  [](const Map::Entry* a, const Map::Entry* b) { return KeyLess()(a->first, b->first); });
    }
}

namespace detail {

Packet decode_checked(const std::uint8_t* data, std::size_t size) {
    const std::uint8_t* at = data;
    const std::uint8_t* const end = data + size;
    Packet packet;
    const std::size_t channel_size = read_size(at, end);
    if (channel_size != 0) packet.set_channel(std::string(reinterpret_cast<const char*>(take(at, end, channel_size)), channel_size));
    MapAccess::build_checked(at, end, packet, 0);
    if (at != end) not_checked();
    return packet;
}

}  // namespace detail

}  // namespace sprocket

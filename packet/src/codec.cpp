// The value encoding (docs/PROTOCOL.md, "Values"): a tag byte, then the payload.
#include <sprocket/codec.hpp>

#include "map_access.hpp"
#include "tags.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <string_view>
#include <vector>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <type_traits>

namespace sprocket {

namespace {

using namespace detail;  // the tags

constexpr std::size_t min_value_bytes = 1;  // a tag
constexpr std::size_t min_entry_bytes = 2;  // a key size and a tag

bool exact_as_float(double d) {
    if (std::isnan(d)) return false;  // keep NaN payloads bit for bit
    if (std::isinf(d)) return true;
    return std::fabs(d) <= std::numeric_limits<float>::max() &&
           static_cast<double>(static_cast<float>(d)) == d;
}

// Writers share one encoder (write_value below): AppendWriter appends a packet (the hot path),
// SizeCounter measures one for it when it is big, RawWriter writes varints into its buffer,
// and ByteOutputArchive appends when a Value sits inside a user type that cereal is saving.
struct SizeCounter {
    std::size_t size = 0;
    std::size_t min_borrowed = std::numeric_limits<std::size_t>::max();  // payloads this big are not counted
    std::size_t borrow_min() const { return min_borrowed; }
    void borrow(const void*, std::size_t) {}
    void write_byte(std::uint8_t) { ++size; }
    void write(const void*, std::size_t n) { size += n; }
    void write_varint(std::uint64_t v) {
        do {
            ++size;
            v >>= 7;
        } while (v != 0);
    }
};

struct RawWriter {
    std::uint8_t* p;
    void write_byte(std::uint8_t b) { *p++ = b; }
    void write(const void* data, std::size_t n) {
        if (n != 0) std::memcpy(p, data, n);
        p += n;
    }
    void write_varint(std::uint64_t v) {
        while (v >= 0x80) {
            *p++ = static_cast<std::uint8_t>(v | 0x80);
            v >>= 7;
        }
        *p++ = static_cast<std::uint8_t>(v);
    }
};

template <class W>
void write_packet(W& w, const Packet& packet);

// What an AppendWriter writes: a packet, or a literal's fields on the default channel.
struct Source {
    const Packet* packet = nullptr;
    const MapAccess::LiteralOrder* literal = nullptr;
};
template <class W>
void write_source(W& w, const Source& source);

// Appends a packet to a vector in one pass when it fits in 4 KiB (a 64-player state is 3.9):
// pieces gather in a local buffer, which goes in with one insert at the end (one exactly sized
// allocation into an empty vector, no zero-filling). When the packet outgrows the local
// buffer, its whole size is measured once and reserved (geometrically, when `out` already
// holds frames, so that appending many packets stays linear) before anything is appended, so
// nothing reallocates after that and a failed allocation leaves `out` as it was; a big
// payload is then copied straight in.
class AppendWriter {
public:
    /// `head`: bytes (at most 16) to leave before the packet, e.g. for a frame header.
    AppendWriter(Bytes& out, Source source, std::size_t head = 0) : out_(out), source_(source), used_(head) {
        std::memset(buf_, 0, head);
    }
    /// String and bytes payloads of `min` bytes or more go to `borrowed`, not into the output.
    void borrow_into(std::vector<Borrowed>* borrowed, std::size_t min) {
        borrowed_ = borrowed;
        borrow_min_ = min;
    }
    std::size_t borrow_min() const { return borrow_min_; }
    void borrow(const void* data, std::size_t n) {
        borrowed_->push_back(Borrowed{out_.size() + used_, static_cast<const std::uint8_t*>(data), n});
    }

    void write_byte(std::uint8_t b) {
        if (used_ == sizeof buf_) flush();
        buf_[used_++] = b;
    }
    void write(const void* data, std::size_t n) {
        if (n > sizeof buf_ - used_) {
            flush();
            if (n >= sizeof buf_) {
                const auto* p = static_cast<const std::uint8_t*>(data);
                out_.insert(out_.end(), p, p + n);
                return;
            }
        }
        if (n != 0) std::memcpy(buf_ + used_, data, n);
        used_ += n;
    }
    void write_varint(std::uint64_t v) {
        if (sizeof buf_ - used_ < 10) flush();
        RawWriter w{buf_ + used_};
        w.write_varint(v);
        used_ = static_cast<std::size_t>(w.p - buf_);
    }
    /// Appends what is left: call once, after the whole packet was written.
    void finish() { out_.insert(out_.end(), buf_, buf_ + used_); }

private:
    void flush() {
        if (!sized_) {
            sized_ = true;
            SizeCounter counter;
            counter.min_borrowed = borrow_min_;
            write_source(counter, source_);
            const std::size_t need = out_.size() + used_ + counter.size;  // nothing flushed yet
            if (out_.capacity() < need) out_.reserve(std::max(need, 2 * out_.capacity()));
        }
        out_.insert(out_.end(), buf_, buf_ + used_);
        used_ = 0;
    }

    Bytes& out_;
    const Source source_;
    bool sized_ = false;
    std::vector<Borrowed>* borrowed_ = nullptr;
    std::size_t borrow_min_ = std::numeric_limits<std::size_t>::max();
    std::size_t used_;
    std::uint8_t buf_[4096];  // NOLINT: written before it is read
};

template <class W>
void write_sized(W& w, std::uint8_t tag, const void* data, std::size_t size) {
    w.write_byte(tag);
    w.write_varint(size);
    if constexpr (std::is_same_v<W, AppendWriter> || std::is_same_v<W, SizeCounter>) {
        if (size >= w.borrow_min()) return w.borrow(data, size);  // a big payload, sent from where it is
    }
    w.write(data, size);
}

template <class W>
void write_entries(W& w, const Map& map);

template <class W>
void write_value(W& w, const Value& value) {
    const Value::Storage& s = value.storage();
    switch (value.type()) {
        case ValueType::null:
            w.write_byte(tag_null);
            break;
        case ValueType::boolean:
            w.write_byte(std::get<bool>(s) ? tag_true : tag_false);
            break;
        case ValueType::integer:
            w.write_byte(tag_int);
            w.write_varint(detail::zigzag(std::get<std::int64_t>(s)));
            break;
        case ValueType::real: {
            const double d = std::get<double>(s);
            if (exact_as_float(d)) {
                const float f = static_cast<float>(d);
                w.write_byte(tag_real32);
                w.write(&f, sizeof f);
            } else {
                w.write_byte(tag_real64);
                w.write(&d, sizeof d);
            }
            break;
        }
        case ValueType::string: {
            const std::string& str = std::get<std::string>(s);
            write_sized(w, tag_string, str.data(), str.size());
            break;
        }
        case ValueType::bytes: {
            const Bytes& b = std::get<Bytes>(s);
            write_sized(w, tag_bytes, b.data(), b.size());
            break;
        }
        case ValueType::list: {
            const List& list = std::get<List>(s);
            w.write_byte(tag_list);
            w.write_varint(list.size());
            for (const Value& x : list) write_value(w, x);
            break;
        }
        case ValueType::map:
            w.write_byte(tag_map);
            write_entries(w, std::get<Map>(s));
            break;
        case ValueType::object: {
            const Bytes& blob = std::get<Object>(s).blob;
            write_sized(w, tag_object, blob.data(), blob.size());
            break;
        }
    }
}

template <class W>
void write_entries(W& w, const Map& map) {
    w.write_varint(map.size());
    for (const auto& [key, value] : map) {
        w.write_varint(key.size());
        w.write(key.data(), key.size());
        write_value(w, value);
    }
}

template <class W>
void write_packet(W& w, const Packet& packet) {
    w.write_varint(packet.channel().size());
    w.write(packet.channel().data(), packet.channel().size());
    write_entries(w, packet);
}

template <class W>
void write_source(W& w, const Source& source) {
    if (source.packet) return write_packet(w, *source.packet);
    w.write_varint(0);  // the default channel: ""
    w.write_varint(source.literal->size());
    for (const Map::Field* field : *source.literal) {
        const std::string_view key = MapAccess::key(*field);
        w.write_varint(key.size());
        w.write(key.data(), key.size());
        write_value(w, MapAccess::value(*field));
    }
}

// A key for an error message: quoted, escaped, at most 40 bytes of it (keys come from the wire).
std::string quoted_prefix(const std::string& key) {
    std::ostringstream os;
    detail::write_quoted(os, key, 40);
    return os.str();
}

std::string read_string(ByteInputArchive& ar, const char* what) {
    const std::size_t n = ar.read_size(what);
    const auto* p = reinterpret_cast<const char*>(ar.take(n));
    return std::string(p, n);
}

// The reader, in two modes that share every check: decode builds each value into a `Value`;
// check only walks the bytes (`Out` is `Skim` then), finding the same errors at the same
// offsets and counting the same footprint, without building anything.

template <class Out>
void read_other(ByteInputArchive& ar, std::uint8_t tag, Out* out, std::size_t& held);

// Decodes one value into `*out` (null before), adding the heap memory it holds to `held`.
// Numbers and booleans are read here, inlined into the loops over entries and elements (most
// values of a game's packet are those); the rest, and recursion, in read_other.
template <class Out>
inline void read_value(ByteInputArchive& ar, Out* out, std::size_t& held) {
    constexpr bool Build = std::is_same_v<Out, Value>;
    const std::uint8_t tag = ar.read_byte();
    switch (tag) {
        case tag_null: return;
        case tag_false:
            if constexpr (Build) out->storage().template emplace<bool>(false);
            return;
        case tag_true:
            if constexpr (Build) out->storage().template emplace<bool>(true);
            return;
        case tag_int: {
            const std::uint64_t v = ar.read_varint();
            if constexpr (Build) out->storage().template emplace<std::int64_t>(detail::unzigzag(v));
            return;
        }
        case tag_real32: {
            float f;
            ar.read(&f, sizeof f);
            if constexpr (Build) out->storage().template emplace<double>(f);
            return;
        }
        case tag_real64: {
            double d;
            ar.read(&d, sizeof d);
            if constexpr (Build) out->storage().template emplace<double>(d);
            return;
        }
        default: read_other(ar, tag, out, held);
    }
}

template <class Out>
void read_other(ByteInputArchive& ar, std::uint8_t tag, Out* out, std::size_t& held) {
    constexpr bool Build = std::is_same_v<Out, Value>;
    switch (tag) {
        case tag_string: {
            const std::size_t n = ar.read_size("string size");
            const auto* p = reinterpret_cast<const char*>(ar.take(n));
            if constexpr (Build) held += detail::heap_bytes(out->storage().template emplace<std::string>(p, n));
            else held += string_heap(n);
            return;
        }
        case tag_bytes:
        case tag_object: {
            const std::size_t n = ar.read_size(tag == tag_bytes ? "bytes size" : "object size");
            if constexpr (Build) {
                Bytes& b = tag == tag_bytes ? out->storage().template emplace<Bytes>(ar.take_bytes(n))
                                            : out->storage().template emplace<Object>(Object{ar.take_bytes(n)}).blob;
                held += b.capacity();
            } else {
                ar.take(n);
                held += n;
            }
            return;
        }
        case tag_list: {
            ar.enter();
            const std::size_t n = ar.read_size("list length", min_value_bytes);
            List* list = nullptr;
            if constexpr (Build) {
                list = &out->storage().template emplace<List>();
                list->reserve(n);  // safe: n values need n bytes, checked above
            }
            held += n * sizeof(Value);
            ar.begin_elements(n, min_value_bytes);
            for (std::size_t i = 0; i < n; ++i) {
                ar.next_element(min_value_bytes);
                if constexpr (Build) read_value(ar, &list->emplace_back(), held);
                else read_value(ar, out, held);
            }
            ar.leave();
            return;
        }
        case tag_map:
            ar.enter();
            if constexpr (Build) MapAccess::read_entries(ar, &out->storage().template emplace<Map>(), out, held);
            else MapAccess::read_entries(ar, static_cast<Map*>(nullptr), out, held);
            ar.leave();
            return;
        default: {
            static constexpr char hex[] = "0123456789abcdef";
            ar.fail_at(ar.offset() - 1, DecodeErrc::bad_type_tag,
                       std::string("unknown type tag 0x") + hex[tag >> 4] + hex[tag & 15]);
        }
    }
}

bool entry_less(const Map::Entry* a, const Map::Entry* b) noexcept { return KeyLess()(a->first, b->first); }

// Keys that arrived out of order: until the map is complete its order is the arrival order,
// repeats are caught by a set of the keys so far (a tree: no input makes it slow), and a built
// map's order is sorted once at the end, or when a failure leaves early.
class Unordered {
public:
    Unordered() = default;
    Unordered(const Unordered&) = delete;
    Unordered& operator=(const Unordered&) = delete;
    ~Unordered() { sort(); }

    bool active() const noexcept { return seen_.has_value(); }
    /// Switches to arrival order: `keys(add)` calls `add` with every key so far, which go into
    /// the set.
    template <class Keys>
    void start(Keys&& keys) {
        seen_.emplace();
        keys([this](std::string_view key) { seen_->insert(key); });
    }
    /// Also sorts a built map's order when done.
    void sort_later(Map::Entry** const& order, const std::uint32_t& size) {
        order_ = &order;
        size_ = &size;
    }
    /// Whether `key` is new (it is remembered then).
    bool add(std::string_view key) { return seen_->insert(key).second; }
    void sort() noexcept {
        if (order_) std::sort(*order_, *order_ + *size_, entry_less);
        order_ = nullptr;
    }

private:
    Map::Entry** const* order_ = nullptr;  // the map's (it moves if the map needs a new block)
    const std::uint32_t* size_ = nullptr;
    std::optional<std::set<std::string_view, KeyLess>> seen_;  // made when the order breaks
};

// What check() carries down while it skims.
struct Skim {
    std::string_view channel;  // the packet's, in the input
};

// Steps over bytes that check() has walked already (so they are well formed): a varint, a key,
// a value. The keys of a skimmed map are found again this way when its order breaks (a built
// map has them in its entries): each byte is stepped over at most once per enclosing map.
const std::uint8_t* skip_varint(const std::uint8_t* p, std::uint64_t& v) noexcept {
    v = 0;
    for (unsigned shift = 0;; shift += 7) {
        const std::uint8_t byte = *p++;
        v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) return p;
    }
}

const std::uint8_t* skip_key(const std::uint8_t* p, std::string_view& key) noexcept {
    std::uint64_t n;
    p = skip_varint(p, n);
    key = std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    return p + n;
}

const std::uint8_t* skip_value(const std::uint8_t* p) noexcept {
    std::uint64_t n;
    switch (*p++) {
        case tag_int: return skip_varint(p, n);
        case tag_real32: return p + 4;
        case tag_real64: return p + 8;
        case tag_string:
        case tag_bytes:
        case tag_object: p = skip_varint(p, n); return p + n;
        case tag_list:
            p = skip_varint(p, n);
            for (; n > 0; --n) p = skip_value(p);
            return p;
        case tag_map: {
            p = skip_varint(p, n);
            std::string_view key;
            for (; n > 0; --n) p = skip_value(skip_key(p, key));
            return p;
        }
        default: return p;  // null, false, true
    }
}

}  // namespace

template <class Out>
void MapAccess::read_entries(ByteInputArchive& ar, Map* map, Out* out, std::size_t& held) {
    constexpr bool Build = std::is_same_v<Out, Value>;  // into `map`; else skimming, with `out`
    const std::size_t n = ar.read_size("map size", min_entry_bytes);
    // Every entry but one (the empty key) takes at least 3 bytes: room for more would be
    // memory that a lying count claims.
    const std::size_t reserve = std::min(n, ar.remaining() / 3 + 1);
    if constexpr (Build) {
        if (map->block_) map->clear();
        map->reserve_exact(reserve);
    }
    const std::uint8_t* const entries = ar.take(0);  // where the first entry begins
    Unordered unordered;
    const KeyLess less;
    std::string_view last;  // the previous key, in the input (which outlives the decoding)
    ar.begin_elements(n, min_entry_bytes);
    for (std::size_t i = 0; i < n; ++i) {
        ar.next_element(min_entry_bytes);
        const std::size_t key_size = ar.read_size("key size");
        const auto* key_data = reinterpret_cast<const char*>(ar.take(key_size));
        const std::string_view key(key_data, key_size);
        // sprocket's encoder sorts keys, so each one usually follows the last: appended then.
        if (!unordered.active() && i != 0 && !less(last, key)) {
            if constexpr (Build) {
                unordered.start([&](auto&& add) {
                    for (std::size_t k = 0; k < i; ++k) add(map->index_[k]->first);
                });
                unordered.sort_later(map->index_, map->size_);
            } else {
                unordered.start([&](auto&& add) {
                    const std::uint8_t* p = entries;
                    std::string_view previous;
                    for (std::size_t k = 0; k < i; ++k) {
                        p = skip_value(skip_key(p, previous));
                        add(previous);
                    }
                });
            }
        }
        last = key;
        if (unordered.active() && !unordered.add(key))
            ar.fail(DecodeErrc::duplicate_key, "key " + quoted_prefix(std::string(key)) + " appears twice");
        if constexpr (Build) {
            Map::Slot* slot = map->acquire();  // room in the order too: it has a place for every slot
            Map::Entry* e = ::new (static_cast<void*>(&slot->entry))  // in the slot's storage
                Map::Entry(std::piecewise_construct, std::forward_as_tuple(key), std::forward_as_tuple());
            map->index_[map->size_++] = e;  // from here on the map owns the entry
            held += detail::heap_bytes(e->first);
            read_value(ar, &e->second, held);
        } else {
            held += string_heap(key_size);
            read_value(ar, out, held);
        }
    }
    unordered.sort();
    if constexpr (Build) held += own_bytes(*map);
    else held += reserved_bytes(reserve, n);
}

void MapAccess::load_entries(ByteInputArchive& ar, Map& map, std::size_t* footprint) {
    std::size_t held = 0;
    read_entries(ar, &map, static_cast<Value*>(nullptr), held);
    if (footprint) *footprint += held;
}

// --- the entry points the cereal hooks and encode/decode share ------------------------------

namespace detail {
void save_value(ByteOutputArchive& ar, const Value& value) { sprocket::write_value(ar, value); }
void load_value(ByteInputArchive& ar, Value& value) {
    value = Value();
    std::size_t held = 0;
    sprocket::read_value(ar, &value, held);
}
void save_map(ByteOutputArchive& ar, const Map& map) { write_entries(ar, map); }
void load_map(ByteInputArchive& ar, Map& map) { MapAccess::load_entries(ar, map, nullptr); }

void save_packet(ByteOutputArchive& ar, const Packet& packet) { write_packet(ar, packet); }

void load_packet(ByteInputArchive& ar, Packet& packet) {
    packet.set_channel(read_string(ar, "channel size"));
    MapAccess::load_entries(ar, packet, nullptr);
}
}  // namespace detail

// --- encode / decode --------------------------------------------------------------------------

void encode_to(const Packet& packet, Bytes& out) {
    AppendWriter writer(out, {&packet});
    write_packet(writer, packet);
    writer.finish();
}

namespace detail {
void encode_after(std::size_t head, const Packet& packet, Bytes& out, std::vector<Borrowed>* borrowed,
                  std::size_t borrow_min) {
    AppendWriter writer(out, {&packet}, head);
    if (borrowed) writer.borrow_into(borrowed, borrow_min);
    write_packet(writer, packet);
    writer.finish();
}

void encode_literal_after(std::size_t head, std::initializer_list<Map::Field> fields, Bytes& out) {
    const MapAccess::LiteralOrder order(fields);
    const Source source{nullptr, &order};
    AppendWriter writer(out, source, head);
    write_source(writer, source);
    writer.finish();
}
}  // namespace detail

Bytes encode(const Packet& packet) {
    Bytes out;
    encode_to(packet, out);
    return out;
}

namespace {
// A packet: its channel, its entries, nothing after them. Returns its footprint.
template <class Out>
std::size_t read_packet(ByteInputArchive& ar, Packet* packet, Out* out) {
    constexpr bool Build = std::is_same_v<Out, Value>;  // into `packet`; else skimming
    const std::size_t channel_size = ar.read_size("channel size");
    const auto* channel = reinterpret_cast<const char*>(ar.take(channel_size));
    std::size_t held = sizeof(Packet);
    if constexpr (Build) {
        packet->set_channel(std::string(channel, channel_size));
        held += detail::heap_bytes(packet->channel());
    } else {
        held += string_heap(channel_size);
        out->channel = std::string_view(channel, channel_size);
    }
    MapAccess::read_entries(ar, packet, out, held);
    if (ar.remaining() != 0)
        ar.fail(DecodeErrc::trailing_bytes, std::to_string(ar.remaining()) +
                                                (ar.remaining() == 1 ? " byte" : " bytes") + " after the packet");
    return held;
}
}  // namespace

DecodeResult decode(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits) {
    try {
        ByteInputArchive ar(data, size, limits.max_depth);
        Packet packet;
        const std::size_t held = read_packet(ar, &packet, static_cast<Value*>(nullptr));
        return DecodeResult(std::move(packet), held);
    } catch (const DecodeException& e) {  // the one place wire errors become values
        return DecodeResult(e.error());
    }
}

DecodeResult decode(Bytes&& bytes, const DecodeLimits& limits, std::size_t offset) {
    try {
        ByteInputArchive ar(std::move(bytes), offset, limits.max_depth);
        Packet packet;
        const std::size_t held = read_packet(ar, &packet, static_cast<Value*>(nullptr));
        return DecodeResult(std::move(packet), held);
    } catch (const DecodeException& e) {  // as above
        return DecodeResult(e.error());
    }
}

CheckResult check(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits) {
    // Packets as encode writes them take one lean pass; the rest (errors included) this walk.
    if (std::optional<CheckResult> fast = detail::check_fast(data, size, limits.max_depth)) return std::move(*fast);
    try {
        ByteInputArchive ar(data, size, limits.max_depth);
        Skim skim;
        const std::size_t held = read_packet(ar, static_cast<Packet*>(nullptr), &skim);
        return CheckResult(held, skim.channel);
    } catch (const DecodeException& e) {  // as decode
        return CheckResult(e.error());
    }
}

// --- DecodeResult -----------------------------------------------------------------------------

namespace {
[[noreturn]] void no_packet(const DecodeError& error) {
    throw std::logic_error("[sprocket.packet] DecodeResult holds no packet: " + error.message);
}
}  // namespace

Packet& DecodeResult::packet() & {
    if (!ok()) no_packet(std::get<DecodeError>(v_));
    return std::get<Packet>(v_);
}

const Packet& DecodeResult::packet() const& {
    if (!ok()) no_packet(std::get<DecodeError>(v_));
    return std::get<Packet>(v_);
}

Packet&& DecodeResult::packet() && {
    if (!ok()) no_packet(std::get<DecodeError>(v_));
    return std::get<Packet>(std::move(v_));
}

const DecodeError& CheckResult::error() const {
    if (ok()) throw std::logic_error("[sprocket.packet] CheckResult holds no error: the bytes are a packet");
    return *error_;
}

const DecodeError& DecodeResult::error() const {
    if (ok()) throw std::logic_error("[sprocket.packet] DecodeResult holds a packet, not an error");
    return std::get<DecodeError>(v_);
}

}  // namespace sprocket

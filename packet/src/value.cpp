#include <sprocket/value.hpp>

#include "map_access.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cxxabi.h>
#include <memory>
#include <ostream>
#include <sstream>
#include <tuple>
#include <utility>

namespace sprocket {

namespace {

constexpr const char* error_prefix = "[sprocket.packet] ";

void print_real(std::ostream& os, double d) {
    if (std::isnan(d)) {
        os << "nan";
        return;
    }
    if (std::isinf(d)) {
        os << (d < 0 ? "-inf" : "inf");
        return;
    }
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    std::string_view text(buf, static_cast<std::size_t>(end - buf));
    os << text;
    // Keep reals recognisable as reals: 3.0 prints as "3.0", not "3".
    if (ec == std::errc() && text.find_first_of(".e") == std::string_view::npos) os << ".0";
}

void print_bytes(std::ostream& os, const Bytes& bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    constexpr std::size_t shown = 16;
    os << '<' << bytes.size() << (bytes.size() == 1 ? " byte" : " bytes");
    if (!bytes.empty()) os << ':';
    for (std::size_t i = 0; i < bytes.size() && i < shown; ++i)
        os << ' ' << hex[bytes[i] >> 4] << hex[bytes[i] & 15];
    if (bytes.size() > shown) os << " ...";
    os << '>';
}

}  // namespace

// --- ValueType --------------------------------------------------------------------------------

const char* to_string(ValueType type) noexcept {
    switch (type) {
        case ValueType::null: return "null";
        case ValueType::boolean: return "bool";
        case ValueType::integer: return "integer";
        case ValueType::real: return "real";
        case ValueType::string: return "string";
        case ValueType::bytes: return "bytes";
        case ValueType::list: return "list";
        case ValueType::map: return "map";
        case ValueType::object: return "object";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, ValueType type) { return os << to_string(type); }

// --- detail -----------------------------------------------------------------------------------

namespace detail {

void write_quoted(std::ostream& os, std::string_view text, std::size_t limit) {
    static constexpr char hex[] = "0123456789abcdef";
    os << '"';
    for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
        const char c = text[i];
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"': os << "\\\""; break;
            case '\\': os << "\\\\"; break;
            case '\n': os << "\\n"; break;
            case '\r': os << "\\r"; break;
            case '\t': os << "\\t"; break;
            default:
                if (u < 0x20 || u == 0x7f)
                    os << "\\u00" << hex[u >> 4] << hex[u & 15];
                else
                    os << c;
        }
    }
    os << (text.size() > limit ? "\"..." : "\"");
}

std::string demangle(const char* mangled) {
    int status = 0;
    const std::unique_ptr<char, void (*)(void*)> name(
        abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
    return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

std::string describe_key(std::string_view key) {
    std::ostringstream os;
    os << "key ";
    detail::write_quoted(os, key);
    os << ": ";
    return os.str();
}

void throw_type_error(const std::string& text) { throw TypeError(error_prefix + text); }

}  // namespace detail

// --- Map --------------------------------------------------------------------------------------
//
// Entries live in slots of blocks that never move: the first block is sized exactly when the
// number of entries is known (decode, copy, a literal), later ones double. A block that
// replaces a full one has one slot more, past its entry slots, holding the older block (a
// chain the destructor walks). Erased entries' slots go on a free list. `index_` holds the
// entries in key order.

namespace {
template <class T, class... Args>
T* construct(T* at, Args&&... args) {
    return ::new (static_cast<void*>(at)) T(std::forward<Args>(args)...);  // in a slot's storage
}
constexpr std::uint32_t first_block = 4;                       // entries
constexpr std::uint32_t largest_block = std::uint32_t{1} << 30;  // entries
constexpr std::uint32_t capacity_mask = 0x7fffffffu;               // Map::capacity_ has 31 bits
}  // namespace

Map::Map() noexcept : capacity_(0), linked_(0) {}

Map::Map(std::initializer_list<Entry> entries) : Map() {
    reserve_exact(entries.size());
    for (const Entry& e : entries) set(e.first, e.second);  // last one wins
}

Map::Map(const Map& other) : Map() {  // delegating: the destructor cleans up if a copy throws
    reserve_exact(other.size());
    for (const Entry* e : other.index_) {
        Slot* slot = acquire();
        construct(&slot->entry, *e);
        index_.push_back(&slot->entry);  // reserved: cannot throw
    }
}

Map::Map(Map&& other) noexcept
    : index_(std::move(other.index_)),
      block_(std::move(other.block_)),
      free_(std::exchange(other.free_, nullptr)),
      used_(std::exchange(other.used_, 0)),
      capacity_(other.capacity_),
      linked_(other.linked_) {
    other.index_.clear();
    other.capacity_ = 0;
    other.linked_ = 0;
}

Map& Map::operator=(const Map& other) {
    if (this != &other) {
        Map copy(other);
        swap(copy);
    }
    return *this;
}

Map& Map::operator=(Map&& other) noexcept {
    Map taken(std::move(other));  // first: `other` may live inside this map
    swap(taken);
    return *this;
}

Map::~Map() { release(); }

void Map::swap(Map& other) noexcept {
    index_.swap(other.index_);
    block_.swap(other.block_);
    std::swap(free_, other.free_);
    std::swap(used_, other.used_);
    const std::uint32_t capacity = capacity_, linked = linked_;
    capacity_ = other.capacity_;
    linked_ = other.linked_;
    other.capacity_ = capacity & capacity_mask;
    other.linked_ = linked & 1u;
}

void Map::release() noexcept {
    for (Entry* e : index_) e->~Entry();
    index_.clear();
    std::unique_ptr<Slot[]> block = std::move(block_);
    std::uint32_t capacity = capacity_;
    bool linked = linked_ != 0;
    while (block) {
        std::unique_ptr<Slot[]> older;
        if (linked) {
            Slot::Link& link = block[capacity].link;
            older = std::move(link.block);
            capacity = link.capacity;
            linked = link.linked;
            link.~Link();
        }
        block = std::move(older);  // frees the newer block
    }
    free_ = nullptr;
    used_ = 0;
    capacity_ = 0;
    linked_ = 0;
}

void Map::clear() noexcept {
    release();
    std::vector<Entry*>().swap(index_);
}

void Map::reserve_exact(std::size_t n) {
    if (n == 0 || block_) return;
    const auto capacity = static_cast<std::uint32_t>(std::min<std::size_t>(n, largest_block));
    index_.reserve(n);
    block_ = std::make_unique<Slot[]>(capacity);  // Slot's constructor leaves the memory alone
    capacity_ = capacity & capacity_mask;
    linked_ = 0;
    used_ = 0;
}

void Map::grow() {
    if (!block_) {
        reserve_exact(first_block);
        return;
    }
    const std::uint32_t capacity = capacity_ < largest_block / 2 ? capacity_ * 2 : largest_block;
    std::unique_ptr<Slot[]> block = std::make_unique<Slot[]>(std::size_t{capacity} + 1);
    construct(&block[capacity].link, Slot::Link{std::move(block_), capacity_, linked_ != 0});
    block_ = std::move(block);
    capacity_ = capacity & capacity_mask;
    linked_ = 1;
    used_ = 0;
}

Map::Slot* Map::acquire() {
    if (free_) {
        Slot* slot = free_;
        free_ = slot->next_free;
        return slot;
    }
    if (used_ == capacity_) grow();
    return &block_[used_++];
}

std::size_t Map::lower_bound(std::string_view key) const noexcept {
    std::size_t first = 0, count = index_.size();
    const KeyLess less;
    while (count > 0) {
        const std::size_t half = count / 2;
        if (less(index_[first + half]->first, key)) {
            first += half + 1;
            count -= half + 1;
        } else {
            count = half;
        }
    }
    return first;
}

Value& Map::insert_at(std::size_t pos, std::string_view key, Value&& value) {
    if (index_.size() == index_.capacity()) index_.reserve(std::max<std::size_t>(first_block, 2 * index_.size()));
    Slot* slot = acquire();
    struct GiveBack {  // the slot goes on the free list if the key's string cannot be made
        Map& map;
        Slot* slot;
        ~GiveBack() {
            if (slot) {
                slot->next_free = map.free_;
                map.free_ = slot;
            }
        }
    } give_back{*this, slot};
    Entry* e = construct(&slot->entry, std::piecewise_construct, std::forward_as_tuple(key),
                         std::forward_as_tuple(std::move(value)));
    give_back.slot = nullptr;
    index_.insert(index_.begin() + static_cast<std::ptrdiff_t>(pos), e);  // reserved: cannot throw
    return e->second;
}

Value& Map::operator[](std::string_view key) {
    const std::size_t pos = lower_bound(key);
    if (pos < index_.size() && index_[pos]->first == key) return index_[pos]->second;
    return insert_at(pos, key, Value());
}

const Value* Map::find(std::string_view key) const noexcept {
    const std::size_t pos = lower_bound(key);
    return pos < index_.size() && index_[pos]->first == key ? &index_[pos]->second : nullptr;
}

Value* Map::find(std::string_view key) noexcept {
    const std::size_t pos = lower_bound(key);
    return pos < index_.size() && index_[pos]->first == key ? &index_[pos]->second : nullptr;
}

const Value& Map::at(std::string_view key) const {
    const Value* v = find(key);
    if (!v) throw_missing(key, "");
    return *v;
}

Value& Map::at(std::string_view key) {
    Value* v = find(key);
    if (!v) throw_missing(key, "");
    return *v;
}

bool Map::erase(std::string_view key) {
    const std::size_t pos = lower_bound(key);
    if (pos == index_.size() || index_[pos]->first != key) return false;
    if (index_.size() == 1) {  // the last one: give all the memory back
        clear();
        return true;
    }
    Entry* e = index_[pos];
    index_.erase(index_.begin() + static_cast<std::ptrdiff_t>(pos));
    e->~Entry();
    Slot* slot = reinterpret_cast<Slot*>(e);  // the entry is the slot's member, at its address
    slot->next_free = free_;
    free_ = slot;
    return true;
}

std::string Map::get_or(std::string_view key, const char* fallback) const {
    return get_or<std::string>(key, std::string(fallback ? fallback : ""));
}

void Map::throw_missing(std::string_view key, const std::string& asked) {
    std::ostringstream os;
    os << error_prefix << "key ";
    detail::write_quoted(os, key);
    os << " not found";
    if (!asked.empty()) os << " (asked for " << asked << ")";
    throw KeyError(os.str());
}

bool operator==(const Map& a, const Map& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.index_.size(); ++i)
        if (*a.index_[i] != *b.index_[i]) return false;
    return true;
}

std::size_t MapAccess::own_bytes(const Map& map) noexcept {
    std::size_t n = map.index_.capacity() * sizeof(Map::Entry*);
    const Map::Slot* block = map.block_.get();
    std::uint32_t capacity = map.capacity_;
    bool linked = map.linked_ != 0;
    while (block) {
        n += (capacity + (linked ? 1u : 0u)) * sizeof(Map::Slot);
        if (!linked) break;
        const Map::Slot::Link& link = block[capacity].link;
        block = link.block.get();
        capacity = link.capacity;
        linked = link.linked;
    }
    return n;
}

// --- memory_footprint -------------------------------------------------------------------------

namespace {
std::size_t held_by(const Value& value) noexcept;

std::size_t held_by(const Map& map) noexcept {
    std::size_t n = MapAccess::own_bytes(map);
    for (const auto& [key, value] : map) n += detail::heap_bytes(key) + held_by(value);
    return n;
}

std::size_t held_by(const Value& value) noexcept {
    switch (value.type()) {
        case ValueType::string: return detail::heap_bytes(*value.get_if<std::string>());
        case ValueType::bytes: return value.get_if<Bytes>()->capacity();
        case ValueType::object: return value.get_if<Object>()->blob.capacity();
        case ValueType::map: return held_by(*value.get_if<Map>());
        case ValueType::list: {
            const List& list = *value.get_if<List>();
            std::size_t n = list.capacity() * sizeof(Value);
            for (const Value& x : list) n += held_by(x);
            return n;
        }
        case ValueType::null:
        case ValueType::boolean:
        case ValueType::integer:
        case ValueType::real:
            break;
    }
    return 0;
}
}  // namespace

std::size_t memory_footprint(const Value& value) noexcept { return sizeof(Value) + held_by(value); }
std::size_t memory_footprint(const Map& map) noexcept { return sizeof(Map) + held_by(map); }

// --- Value ------------------------------------------------------------------------------------

Value::Value(std::initializer_list<Map::Entry> entries) : storage_(std::in_place_type<Map>, entries) {}

std::string Value::mismatch(const std::string& asked) const {
    std::ostringstream os;
    os << "asked for " << asked << ", but holds " << type();
    switch (type()) {
        case ValueType::boolean:
        case ValueType::integer:
        case ValueType::real:
            os << ' ' << *this;
            break;
        case ValueType::string:  // at most 64 bytes of it: wire data may be long
            os << ' ';
            detail::write_quoted(os, std::get<std::string>(storage_), 64);
            break;
        case ValueType::object:
            os << " of " << std::get<Object>(storage_).blob.size() << " bytes";
            break;
        case ValueType::list:
        case ValueType::map:
            os << " of " << (type() == ValueType::list ? std::get<List>(storage_).size() : std::get<Map>(storage_).size())
               << " elements";
            break;
        case ValueType::null:
        case ValueType::bytes:
            break;
    }
    return os.str();
}

std::ostream& operator<<(std::ostream& os, const Value& value) {
    std::visit(
        [&os](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) {
                os << "null";
            } else if constexpr (std::is_same_v<T, bool>) {
                os << (v ? "true" : "false");
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                os << v;
            } else if constexpr (std::is_same_v<T, double>) {
                print_real(os, v);
            } else if constexpr (std::is_same_v<T, std::string>) {
                detail::write_quoted(os, v);
            } else if constexpr (std::is_same_v<T, Bytes>) {
                print_bytes(os, v);
            } else if constexpr (std::is_same_v<T, List>) {
                os << '[';
                const char* sep = "";
                for (const Value& x : v) {
                    os << sep << x;
                    sep = ", ";
                }
                os << ']';
            } else if constexpr (std::is_same_v<T, Map>) {
                os << v;
            } else {
                static_assert(std::is_same_v<T, Object>);
                os << "<object, " << v.blob.size() << (v.blob.size() == 1 ? " byte>" : " bytes>");
            }
        },
        value.storage());
    return os;
}

std::ostream& operator<<(std::ostream& os, const Map& map) {
    os << '{';
    const char* sep = "";
    for (const auto& [key, value] : map) {
        os << sep;
        detail::write_quoted(os, key);
        os << ": " << value;
        sep = ", ";
    }
    return os << '}';
}

}  // namespace sprocket

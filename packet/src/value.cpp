#include <sprocket/value.hpp>

#include <sprocket/detail/block_pool.hpp>
#include "map_access.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <memory>
#include <cstddef>
#include <cstdint>
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
// number of entries is known (decode, copy, a literal), later ones double, each holding the
// older one. The newest block also holds the key order: pointers to the entries, with room for
// every slot of every block (so inserting never reallocates it: only a new block does, and
// copies it over). Erased entries' slots go on a free list.

namespace {
template <class T, class... Args>
T* construct(void* at, Args&&... args) {
    return ::new (at) T(std::forward<Args>(args)...);  // in a block's storage
}
constexpr std::size_t first_block = 4;                       // entries
constexpr std::size_t largest_block = std::size_t{1} << 30;  // entries
}  // namespace

void Map::BlockDeleter::operator()(Block* block) const noexcept {
    const std::size_t bytes = block->bytes;
    block->~Block();  // frees the older blocks first
    detail::deallocate_block(block, bytes);
}

namespace {
static_assert(sizeof(Map::Entry) % alignof(Map::Entry*) == 0);
}  // namespace

std::unique_ptr<Map::Block, Map::BlockDeleter> MapAccess::make_block(std::size_t capacity, std::size_t order_capacity) {
    static_assert(sizeof(Map::Block) % alignof(Map::Slot) == 0 && alignof(Map::Slot) <= alignof(std::max_align_t));
    const std::size_t bytes =
        sizeof(Map::Block) + capacity * sizeof(Map::Slot) + order_capacity * sizeof(Map::Entry*);
    void* memory = detail::allocate_block(bytes);  // left as it is: slots are built when used
    Map::Block* block = construct<Map::Block>(memory);
    block->bytes = detail::block_capacity(bytes);
    block->capacity = static_cast<std::uint32_t>(capacity);
    block->order_capacity = static_cast<std::uint32_t>(order_capacity);
    return std::unique_ptr<Map::Block, Map::BlockDeleter>(block);
}

namespace {
// A game writes its literals the same way every time (its state packet, each frame): the key
// order found for one is the first guess for the next of as many fields whose first key is the
// same string, and is taken when the keys come out strictly increasing in it (which also rules
// out repeats). Sorting was most of the time a literal took to build (a branch mispredicted at
// every comparison).
struct OrderGuess {
    const char* first_key = nullptr;
    std::size_t size = 0;
    std::uint8_t order[16] = {};
};
constexpr std::size_t guessed_literals = 32;
thread_local OrderGuess order_guesses[guessed_literals];
}  // namespace

MapAccess::LiteralOrder::LiteralOrder(std::initializer_list<Map::Field> fields) {
    using Field = Map::Field;
    const KeyLess less;
    const Field* const first = fields.begin();
    const std::size_t n = fields.size();
    const Field** order = small_;
    if (n > std::size(small_)) {
        large_ = std::make_unique<const Field*[]>(n);
        order = order_ = large_.get();
    }
    OrderGuess* guess = nullptr;
    bool guessed = false;
    if (n != 0 && n <= std::size(small_)) {
        const char* key = first->key_.data();
        guess = &order_guesses[(reinterpret_cast<std::uintptr_t>(key) / 8 + n) % guessed_literals];
        if (guess->first_key == key && guess->size == n) {
            guessed = true;
            for (std::size_t i = 0; i < n; ++i) {
                order[i] = first + guess->order[i];
                if (i != 0 && !less(order[i - 1]->key_, order[i]->key_)) {
                    guessed = false;
                    break;
                }
            }
        }
    }
    std::size_t kept = n;
    if (!guessed) {
        // The fields' order by key (an insertion sort: literals are short; it is stable, so
        // among equal keys the literal's order stays), then one entry for each run of equal
        // keys: the last.
        std::size_t sorted = 0;
        for (const Field& f : fields) {
            std::size_t j = sorted++;
            for (; j > 0 && less(f.key_, order[j - 1]->key_); --j) order[j] = order[j - 1];
            order[j] = &f;
        }
        kept = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (i + 1 < n && order[i]->key_ == order[i + 1]->key_) continue;  // a later one follows
            order[kept++] = order[i];
        }
        if (guess && kept == n) {
            guess->first_key = first->key_.data();
            guess->size = n;
            for (std::size_t i = 0; i < n; ++i) guess->order[i] = static_cast<std::uint8_t>(order[i] - first);
        }
    }
    size_ = kept;
}

Map::Map(std::initializer_list<Field> fields) : Map() {  // delegating: cleaned up if a build throws
    const MapAccess::LiteralOrder order(fields);
    reserve_exact(order.size());
    for (const Field* f : order) {
        Slot* slot = acquire();
        index_[size_] = construct<Entry>(&slot->entry, std::piecewise_construct, std::forward_as_tuple(f->key_),
                                         std::forward_as_tuple(std::move(f->value_)));
        ++size_;
    }
}

Map::Map(const Map& other) : Map() {  // delegating: the destructor cleans up if a copy throws
    reserve_exact(other.size());
    for (std::size_t i = 0; i < other.size_; ++i) {
        Slot* slot = acquire();
        index_[size_] = construct<Entry>(&slot->entry, *other.index_[i]);
        ++size_;
    }
}

Map& Map::operator=(const Map& other) {
    if (this != &other) {
        Map copy(other);
        swap(copy);
    }
    return *this;
}

void Map::release() noexcept {
    for (std::size_t i = 0; i < size_; ++i) index_[i]->~Entry();
    block_.reset();
    index_ = nullptr;
    free_ = nullptr;
    size_ = 0;
    used_ = 0;
}

void Map::clear() noexcept { release(); }

void Map::reserve_exact(std::size_t n) {
    if (n == 0 || block_) return;
    n = std::min(n, largest_block);
    block_ = MapAccess::make_block(n, n);
    index_ = block_->order();
    used_ = 0;
}

void Map::grow() {
    if (!block_) {
        reserve_exact(first_block);
        return;
    }
    const std::size_t capacity = std::min<std::size_t>(std::size_t{block_->capacity} * 2, largest_block);
    auto block = MapAccess::make_block(capacity, std::size_t{block_->order_capacity} + capacity);
    Entry** order = block->order();
    if (size_ != 0) std::memcpy(order, index_, size_ * sizeof(Entry*));
    block->older = std::move(block_);
    block_ = std::move(block);
    index_ = order;
    used_ = 0;
}

Map::Slot* Map::acquire() {
    if (free_) {
        Slot* slot = free_;
        free_ = slot->next_free;
        return slot;
    }
    if (!block_ || used_ == block_->capacity) grow();
    return block_->slots() + used_++;
}

namespace {
// Where `key` is or would go in a sorted order of entries, and whether it is there. Inlined
// into each lookup: comparisons are KeyLess's byte loop (keys are short), no memcmp calls.
inline std::size_t search(Map::Entry* const* order, std::size_t size, std::string_view key, bool& found) noexcept {
    const KeyLess less;
    std::size_t first = 0, count = size;
    while (count > 0) {
        const std::size_t half = count / 2;
        if (less(order[first + half]->first, key)) {
            first += half + 1;
            count -= half + 1;
        } else {
            count = half;
        }
    }
    found = first < size && !less(key, order[first]->first);
    return first;
}
}  // namespace

Value& Map::insert_at(std::size_t pos, std::string_view key, Value&& value) {
    Slot* slot = acquire();  // may move the order to a new block, not the entries
    struct GiveBack {        // the slot goes on the free list if the key's string cannot be made
        Map& map;
        Slot* slot;
        ~GiveBack() {
            if (slot) {
                slot->next_free = map.free_;
                map.free_ = slot;
            }
        }
    } give_back{*this, slot};
    Entry* e = construct<Entry>(&slot->entry, std::piecewise_construct, std::forward_as_tuple(key),
                                std::forward_as_tuple(std::move(value)));
    give_back.slot = nullptr;
    // There is room: the order has a place for every slot.
    std::memmove(index_ + pos + 1, index_ + pos, (size_ - pos) * sizeof(Entry*));
    index_[pos] = e;
    ++size_;
    return e->second;
}


namespace {
// Exact lookup. A game's maps are small: there, a scan for an equal key (its loads independent
// of each other's outcome) beats a binary search's chain of dependent steps.
constexpr std::size_t scan_below = 9;  // entries

inline bool same(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) return false;
    return true;
}

inline Map::Entry* lookup(Map::Entry* const* order, std::size_t size, std::string_view key) noexcept {
    if (size < scan_below) {
        for (std::size_t i = 0; i < size; ++i)
            if (same(order[i]->first, key)) return order[i];
        return nullptr;
    }
    bool found = false;
    const std::size_t pos = search(order, size, key, found);
    return found ? order[pos] : nullptr;
}
}  // namespace

namespace {
// Where `key` is or would go, and whether it is there: the scan first in a small map (keys
// that are there are the common case: a game setting its fields each frame).
inline std::size_t position(Map::Entry* const* order, std::size_t size, std::string_view key, bool& found) noexcept {
    if (size < scan_below) {
        for (std::size_t i = 0; i < size; ++i) {
            if (same(order[i]->first, key)) {
                found = true;
                return i;
            }
        }
    }
    return search(order, size, key, found);
}
}  // namespace

std::size_t Map::locate(std::string_view key, bool& found) const noexcept { return position(index_, size_, key, found); }

const Value* Map::find(std::string_view key) const noexcept {
    Entry* e = lookup(index_, size_, key);
    return e ? &e->second : nullptr;
}

Value* Map::find(std::string_view key) noexcept {
    Entry* e = lookup(index_, size_, key);
    return e ? &e->second : nullptr;
}

Value& Map::operator[](std::string_view key) {
    bool found = false;
    const std::size_t pos = position(index_, size_, key, found);
    if (found) return index_[pos]->second;
    return insert_at(pos, key, Value());
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
    bool found = false;
    const std::size_t pos = search(index_, size_, key, found);
    if (!found) return false;
    if (size_ == 1) {  // the last one: give all the memory back
        clear();
        return true;
    }
    Entry* e = index_[pos];
    std::memmove(index_ + pos, index_ + pos + 1, (size_ - pos - 1) * sizeof(Entry*));
    --size_;
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
    if (a.size_ != b.size_) return false;
    for (std::size_t i = 0; i < a.size_; ++i)
        if (*a.index_[i] != *b.index_[i]) return false;
    return true;
}

std::size_t MapAccess::reserved_bytes(std::size_t reserve, std::size_t n) noexcept {
    // As reserve_exact, then acquire() and grow() for n entries.
    if (n == 0) return 0;
    auto bytes = [](std::size_t capacity, std::size_t order) {
        return detail::block_capacity(sizeof(Map::Block) + capacity * sizeof(Map::Slot) + order * sizeof(Map::Entry*));
    };
    std::size_t capacity = std::min(reserve == 0 ? first_block : reserve, largest_block);
    std::size_t order = capacity, have = capacity;
    std::size_t total = bytes(capacity, order);
    while (have < n) {
        capacity = std::min(capacity * 2, largest_block);
        order += capacity;
        have += capacity;
        total += bytes(capacity, order);
    }
    return total;
}

std::size_t MapAccess::own_bytes(const Map& map) noexcept {
    std::size_t n = 0;
    for (const Map::Block* block = map.block_.get(); block; block = block->older.get()) n += block->bytes;
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

Value::Value(std::initializer_list<Map::Field> fields) : storage_(std::in_place_type<Map>, fields) {}

Map::Field::Field(std::string_view key, std::initializer_list<Field> map) : key_(key) {
    if (map.size() != 0) value_ = Value(map);  // `{}` stays null, as `Value v = {}` is
}

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

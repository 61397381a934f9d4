#pragma once
/// \file
/// `Value`, the dynamically typed value a `Packet` maps keys to, and `Map`, the string-keyed
/// map of values that `Packet` builds on (the two are one recursive type, hence one header).
/// Which C++ types convert to and from values is listed in detail/conversions.hpp.
///
/// A value is one of: null, bool, 64-bit integer, real (double), string, bytes, list, map, or an
/// object (any user type cereal can serialize, stored as the bytes it serializes to and read
/// back as the same type).
///
/// Reading is typed: `as<T>()` converts numbers when nothing is lost (an integer into any
/// integer type that holds it, an integer into a float or double that represents it exactly, a
/// whole-number real such as 3.0 into an integer type that holds it). One rounding is allowed on
/// purpose: a real read as `float` rounds to the nearest float (games hold positions in floats;
/// values hold doubles). Anything else throws `TypeError`; `try_as<T>()` returns `std::nullopt`.
/// A `char` is stored as an integer (use std::string for text).

#include <sprocket/archive.hpp>
#include <sprocket/errors.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace sprocket {

class Value;
class Map;

namespace detail {
template <class T>
struct is_initializer_list : std::false_type {};
template <class T>
struct is_initializer_list<std::initializer_list<T>> : std::true_type {};
/// Compile-time errors that say what to do when a type cannot be stored in a Value or read
/// from one (defined in detail/conversions.hpp).
template <class T>
constexpr void explain_unsupported();

template <class T>
constexpr void explain_unreadable();
}  // namespace detail

/// Raw bytes (`std::vector<std::uint8_t>`): stored as-is, never interpreted.
using Bytes = std::vector<std::uint8_t>;
/// A list of values.
using List = std::vector<Value>;

/// A user type, stored as the bytes `ByteOutputArchive` made of it. Read it back with
/// `as<T>()` of the same type; reading it as another type fails with `TypeError` (or gives
/// `nullopt` from `try_as`) whenever the bytes do not decode as that type.
struct Object {
    Bytes blob;
    friend bool operator==(const Object& a, const Object& b) { return a.blob == b.blob; }
    friend bool operator!=(const Object& a, const Object& b) { return !(a == b); }
};

/// What a `Value` holds.
enum class ValueType : std::uint8_t { null, boolean, integer, real, string, bytes, list, map, object };

/// "null", "bool", "integer", "real", "string", "bytes", "list", "map", "object".
const char* to_string(ValueType type) noexcept;
std::ostream& operator<<(std::ostream& os, ValueType type);

/// How a C++ type converts to and from `Value`. Specialized in detail/conversions.hpp for the built-in
/// types, integers, floats, enums, `std::vector`, `std::map`/`std::unordered_map` with string
/// keys, `std::optional`, and any other class type cereal can serialize (stored as `Object`).
template <class T, class Enable = void>
struct ValueTraits {
    static constexpr bool defined = false;
};

template <class T>
inline constexpr bool is_value_convertible = ValueTraits<std::decay_t<T>>::defined;

// Declared before Value so that no use inside Value instantiates the primary template for them.
template <> struct ValueTraits<Bytes>;
template <> struct ValueTraits<List>;
template <> struct ValueTraits<Object>;
template <> struct ValueTraits<Value>;

namespace detail {
template <class T>
struct lacks_conversion : std::bool_constant<!ValueTraits<T>::defined> {};
template <class T>
struct converts_to_value : std::is_convertible<T, Value> {};
/// A class type that no conversion takes (and that does not convert to a Value by itself: a
/// class derived from Value, one with `operator Value()`, a reference_wrapper): storing it is a
/// compile error that says why.
template <class T>
inline constexpr bool is_unsupported_class =
    std::conjunction_v<std::is_class<T>, std::negation<std::is_same<T, Value>>,
                       std::negation<is_initializer_list<T>>, lacks_conversion<T>,
                       std::negation<converts_to_value<T>>>;
}  // namespace detail

/// Orders keys bytewise, like std::less<std::string>, and also against `std::string_view`
/// (so lookups never build a string). Keys are short and usually differ in their first byte,
/// so a loop beats a call to memcmp here.
struct KeyLess {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept {
        const std::size_t n = a.size() < b.size() ? a.size() : b.size();
        for (std::size_t i = 0; i < n; ++i) {
            const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
            if (x != y) return x < y;
        }
        return a.size() < b.size();
    }
};

/// A map from string keys to values, ordered by key (so iteration order, printing and encoding
/// are deterministic and equality does not depend on insertion order).
///
/// Inserting never moves existing values: references to keys and values stay valid until their
/// own key is erased (or the map is cleared or destroyed), so `p["a"] = p["b"]` is fine, and so
/// do they when the map itself is moved. Iterators, though, are invalidated by any insertion or
/// erasure (like a vector's). Entries live in a few blocks of memory, not one allocation each:
/// a map built by `decode`, copied, or made from a literal holds its entries and their order in
/// one allocation. Lookups are binary searches. Inserting a key moves the pointers of the keys
/// after it (a vector's cost): building a huge map in random key order is quadratic, so insert
/// in key order where it matters (`decode` and conversions from std::map and
/// std::unordered_map do).
class Map {
    union Slot;    // where one entry lives (defined inside packet/src)
    struct Block;  // a block of slots and the key order (likewise)
    struct BlockDeleter {
        void operator()(Block* block) const noexcept;
    };

public:
    using Entry = std::pair<const std::string, Value>;
    /// One `{"key", value}` of a map or packet literal (defined below, after Value).
    class Field;

    /// Walks the entries in key order.
    template <bool Const>
    class Iterator {
    public:
        using iterator_category = std::bidirectional_iterator_tag;
        using value_type = Entry;
        using difference_type = std::ptrdiff_t;
        using pointer = std::conditional_t<Const, const Entry*, Entry*>;
        using reference = std::conditional_t<Const, const Entry&, Entry&>;

        Iterator() noexcept = default;
        /// A const iterator from a mutable one.
        template <bool C = Const, std::enable_if_t<C, int> = 0>
        Iterator(const Iterator<false>& other) noexcept : at_(other.at_) {}  // NOLINT: like std::map's

        reference operator*() const noexcept { return **at_; }
        pointer operator->() const noexcept { return *at_; }
        Iterator& operator++() noexcept {
            ++at_;
            return *this;
        }
        Iterator operator++(int) noexcept { return Iterator(at_++); }
        Iterator& operator--() noexcept {
            --at_;
            return *this;
        }
        Iterator operator--(int) noexcept { return Iterator(at_--); }
        friend bool operator==(const Iterator& a, const Iterator& b) noexcept { return a.at_ == b.at_; }
        friend bool operator!=(const Iterator& a, const Iterator& b) noexcept { return a.at_ != b.at_; }

    private:
        friend class Map;
        friend class Iterator<true>;
        explicit Iterator(Entry* const* at) noexcept : at_(at) {}
        Entry* const* at_ = nullptr;
    };
    using iterator = Iterator<false>;
    using const_iterator = Iterator<true>;

    Map() noexcept = default;
    /// `Map{{"x", 3}, {"name", "ann"}}`; when a key repeats, the last one wins. The values move
    /// out of the literal (see `Field`). Throws only what building a key or value throws
    /// (`std::bad_alloc`), leaving nothing behind.
    Map(std::initializer_list<Field> fields);
    /// A deep copy in one allocation. Throws only what copying a key or value throws
    /// (`std::bad_alloc`), leaving nothing behind.
    Map(const Map& other);
    /// Takes the entries without moving them: references into `other` now refer into this map,
    /// and `other` is left empty. (Inline, like the destructor: a packet on its way from the
    /// socket to the game is moved a few times, and each leaves an empty map behind.)
    Map(Map&& other) noexcept
        : block_(std::move(other.block_)),
          index_(std::exchange(other.index_, nullptr)),
          free_(std::exchange(other.free_, nullptr)),
          size_(std::exchange(other.size_, 0)),
          used_(std::exchange(other.used_, 0)) {}
    /// Copies, then replaces: `other` may be a map held inside this one. On failure this map is
    /// unchanged.
    Map& operator=(const Map& other);
    /// Takes `other`'s entries (which may live inside this map), then drops this map's own.
    Map& operator=(Map&& other) noexcept {
        Map taken(std::move(other));  // first: `other` may live inside this map
        swap(taken);
        return *this;
    }
    ~Map() {
        if (block_) release();  // a map without a block holds no entries
    }

    /// The value at `key`, inserting null first if absent.
    Value& operator[](std::string_view key);
    /// The value at `key`; throws `KeyError` naming the key if absent.
    const Value& at(std::string_view key) const;
    Value& at(std::string_view key);
    /// The value at `key`, or nullptr if absent. Never throws.
    const Value* find(std::string_view key) const noexcept;
    Value* find(std::string_view key) noexcept;
    bool has(std::string_view key) const noexcept { return find(key) != nullptr; }

    /// Sets `key` to `value` (inserting or replacing) and returns the stored value.
    template <class V>
    Value& set(std::string_view key, V&& value);
    /// Removes `key`; returns whether it was there.
    bool erase(std::string_view key);
    /// Removes every entry and gives their memory back.
    void clear() noexcept;

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    /// Entries in key order; values may be changed through the mutable iterators.
    iterator begin() noexcept { return iterator(index_); }
    iterator end() noexcept { return iterator(index_ + size_); }
    const_iterator begin() const noexcept { return const_iterator(index_); }
    const_iterator end() const noexcept { return const_iterator(index_ + size_); }

    /// Exchanges the entries of two maps; no entry moves, so references follow their entries.
    void swap(Map& other) noexcept {
        block_.swap(other.block_);
        std::swap(index_, other.index_);
        std::swap(free_, other.free_);
        std::swap(size_, other.size_);
        std::swap(used_, other.used_);
    }
    friend void swap(Map& a, Map& b) noexcept { a.swap(b); }

    /// The value at `key` as `T`. Throws `KeyError` if absent, `TypeError` if it is not a `T`
    /// (or not convertible without loss); both messages name the key, the type asked for and
    /// the type held: `[sprocket.packet] key "x": asked for int32, but holds string "abc"`.
    /// `get<std::optional<T>>` gives `std::nullopt` for a missing key or a null.
    template <class T>
    T get(std::string_view key) const;
    /// The value at `key` as `T`, or `fallback` when the key is absent or holds null. A value of
    /// another type is a mistake, not an absence: it throws `TypeError` like `get` does
    /// (`get_or("x", 0)` on 2.5 throws "asked for int32, but holds real 2.5": pass `0.0`).
    /// `try_get` is the read that never throws.
    template <class T>
    T get_or(std::string_view key, T fallback) const;
    std::string get_or(std::string_view key, const char* fallback) const;
    /// The value at `key` as `T`, or `std::nullopt` when absent or not a `T`. Never throws for
    /// missing or mistyped values, so nothing a peer sends can make it throw.
    template <class T>
    std::optional<T> try_get(std::string_view key) const;

    friend bool operator==(const Map& a, const Map& b);
    friend bool operator!=(const Map& a, const Map& b) { return !(a == b); }

private:
    friend struct MapAccess;
    [[noreturn]] static void throw_missing(std::string_view key, const std::string& asked);

    /// Where `key` is or would go in the order, and whether it is there.
    std::size_t locate(std::string_view key, bool& found) const noexcept;
    /// Builds the entry (key, value) at `pos` of the order; `value` is moved from.
    Value& insert_at(std::size_t pos, std::string_view key, Value&& value);
    /// Room for `n` entries in one block: only on an empty map with no blocks.
    void reserve_exact(std::size_t n);
    Slot* acquire();
    void grow();
    void release() noexcept;

    std::unique_ptr<Block, BlockDeleter> block_;  // the newest block; it owns the older ones
    Entry** index_ = nullptr;    // the entries in key order, inside block_ (room for every slot)
    Slot* free_ = nullptr;       // slots of erased entries, for reuse
    std::uint32_t size_ = 0;     // entries
    std::uint32_t used_ = 0;     // slots of block_ handed out so far
};

/// One dynamically typed value. Default-constructed, it is null.
class Value {
public:
    using Storage = std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Bytes,
                                 List, Map, Object>;

    Value() noexcept = default;
    Value(std::nullptr_t) noexcept {}
    /// A map: `Value v = {{"x", 1}, {"y", 2}};` (also nests inside `Packet{...}` literals).
    Value(std::initializer_list<Map::Field> fields);
    /// Any convertible type: numbers, strings, `Bytes`, `List`, `Map`, enums, vectors, maps,
    /// optionals, and cereal-serializable class types (stored as `Object`).
    /// Throws `std::out_of_range` for an unsigned integer above INT64_MAX.
    template <class T, class D = std::decay_t<T>,
              std::enable_if_t<!std::is_same_v<D, Value> && ValueTraits<D>::defined, int> = 0>
    Value(T&& value) {  // NOLINT(google-explicit-constructor): values read like data
        ValueTraits<D>::store(storage_, std::forward<T>(value));
    }
    /// `p["player"] = x` with a class type that cannot go into a value does not compile, with a
    /// message that says what to add (a cereal `serialize` function, or string keys for a map)
    /// rather than "no match for operator=".
    template <class T, class D = std::decay_t<T>,
              std::enable_if_t<detail::is_unsupported_class<D>, int> = 0>
    Value& operator=(T&&) {
        detail::explain_unsupported<D>();
        return *this;
    }
    Value(const Value&) = default;
    Value(Value&&) noexcept = default;
    Value& operator=(const Value&) = default;
    Value& operator=(Value&&) noexcept = default;
    ~Value() = default;

    ValueType type() const noexcept { return static_cast<ValueType>(storage_.index()); }
    bool is_null() const noexcept { return type() == ValueType::null; }

    /// Converts to `T`; throws `TypeError` ("asked for uint8, but holds integer 300").
    template <class T>
    T as() const;
    /// Converts to `T`, or `std::nullopt` when the value is not a `T`.
    template <class T>
    std::optional<T> try_as() const;
    /// A pointer to the stored alternative if it is exactly a `T` (one of `Storage`'s types),
    /// else nullptr: `if (auto* s = v.get_if<std::string>()) ...` reads without copying.
    template <class T>
    const T* get_if() const noexcept { return std::get_if<T>(&storage_); }
    template <class T>
    T* get_if() noexcept { return std::get_if<T>(&storage_); }

    /// The variant itself, for `std::visit`.
    const Storage& storage() const noexcept { return storage_; }
    Storage& storage() noexcept { return storage_; }

    friend bool operator==(const Value& a, const Value& b) { return a.storage_ == b.storage_; }
    friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

    /// "asked for T, but holds <what this holds>": the text of a TypeError, for this value.
    std::string mismatch(const std::string& asked) const;

private:
    Storage storage_;
};

/// One `{"key", value}` of a map or packet literal: `Packet{{"x", 3}, {"name", "ann"}}`. The key
/// is read where it is (a literal is not made into a std::string first), and the value, built
/// once here, moves into the map made from the literal: a literal is used once, as written (a
/// std::initializer_list object kept and given to two maps would leave the second one nulls).
/// `{"pos", {{"x", 1}, {"y", 2}}}` nests a map; `{"key", {}}` is null.
class Map::Field {
public:
    template <class V, std::enable_if_t<std::is_constructible_v<Value, V&&>, int> = 0>
    Field(std::string_view key, V&& value) : key_(key), value_(std::forward<V>(value)) {}  // NOLINT: reads like data
    Field(std::string_view key, std::initializer_list<Field> map);  // NOLINT: likewise
    /// `{"player", x}` with a class type that cannot go into a value: a compile error that says
    /// what to add (see `Value::operator=`).
    template <class V, std::enable_if_t<detail::is_unsupported_class<std::decay_t<V>>, int> = 0>
    Field(std::string_view key, V&&) : key_(key) {  // NOLINT: likewise
        detail::explain_unsupported<std::decay_t<V>>();
    }

private:
    friend class Map;
    friend struct MapAccess;
    std::string_view key_;
    mutable Value value_;  // moved out by the map built from the literal (see above)
};

/// Bytes of memory a value holds: sizeof(Value) plus every heap block it owns, at its
/// allocated size: a string too long for std::string's own buffer (capacity + 1), bytes and an
/// object's blob (capacity), a list's elements (capacity x sizeof(Value)), a map's entry blocks
/// and key order, and what all of those hold in turn. The allocator's own bookkeeping is not
/// counted. Never throws; walks the whole value (`DecodeResult::footprint()` counts the same
/// while decoding, for free).
std::size_t memory_footprint(const Value& value) noexcept;
/// sizeof(Map) plus what its storage and entries hold (as for a Value).
std::size_t memory_footprint(const Map& map) noexcept;

/// JSON-like text: `{"alive": true, "name": "Player 1", "x": 312.5}`; bytes print as
/// `<3 bytes: 01 02 ff>`, objects as `<object, 8 bytes>`. For debugging and test failures.
std::ostream& operator<<(std::ostream& os, const Value& value);
std::ostream& operator<<(std::ostream& os, const Map& map);

// --- cereal: a Value or Map inside a user type saved with sprocket's archives -----------------
namespace detail {
void save_value(ByteOutputArchive& ar, const Value& value);
void load_value(ByteInputArchive& ar, Value& value);
void save_map(ByteOutputArchive& ar, const Map& map);
void load_map(ByteInputArchive& ar, Map& map);
}  // namespace detail

// Templates on purpose: an exact match only, so cereal's overload probing for other types never
// considers converting them to Value (which would ask ValueTraits about itself).
template <class T, std::enable_if_t<std::is_same_v<T, Value>, int> = 0>
void CEREAL_SAVE_FUNCTION_NAME(ByteOutputArchive& ar, const T& value) { detail::save_value(ar, value); }
template <class T, std::enable_if_t<std::is_same_v<T, Value>, int> = 0>
void CEREAL_LOAD_FUNCTION_NAME(ByteInputArchive& ar, T& value) { detail::load_value(ar, value); }
template <class T, std::enable_if_t<std::is_same_v<T, Map>, int> = 0>
void CEREAL_SAVE_FUNCTION_NAME(ByteOutputArchive& ar, const T& map) { detail::save_map(ar, map); }
template <class T, std::enable_if_t<std::is_same_v<T, Map>, int> = 0>
void CEREAL_LOAD_FUNCTION_NAME(ByteInputArchive& ar, T& map) { detail::load_map(ar, map); }

}  // namespace sprocket

// How each C++ type converts: ValueTraits specializations (after Map and Value, which they use).
#include <sprocket/detail/conversions.hpp>  // IWYU pragma: export

namespace sprocket {

// --- Value and Map templates --------------------------------------------------------------------

template <class T>
T Value::as() const {
    detail::explain_unreadable<T>();
    T out{};
    if (!ValueTraits<T>::read(*this, out)) detail::throw_type_error(mismatch(ValueTraits<T>::name()));
    return out;
}

template <class T>
std::optional<T> Value::try_as() const {
    detail::explain_unreadable<T>();
    T out{};
    if (!ValueTraits<T>::read(*this, out)) return std::nullopt;
    return out;
}

template <class V>
Value& Map::set(std::string_view key, V&& value) {
    Value v(std::forward<V>(value));  // first: `value` may refer into this map
    bool found = false;
    const std::size_t pos = locate(key, found);
    if (found) {
        index_[pos]->second = std::move(v);
        return index_[pos]->second;
    }
    return insert_at(pos, key, std::move(v));
}

template <class T>
T Map::get(std::string_view key) const {
    detail::explain_unreadable<T>();
    const Value* v = find(key);
    if constexpr (detail::is_optional<T>::value) {
        if (!v) return std::nullopt;
    }
    if (!v) throw_missing(key, ValueTraits<T>::name());
    T out{};
    if (!ValueTraits<T>::read(*v, out))
        detail::throw_type_error(detail::describe_key(key) + v->mismatch(ValueTraits<T>::name()));
    return out;
}

template <class T>
T Map::get_or(std::string_view key, T fallback) const {
    static_assert(!std::is_same_v<T, std::nullptr_t> && !std::is_same_v<T, char*>,
                  "sprocket: get_or's fallback decides the type read: for text pass a std::string "
                  "or a string literal, not nullptr or a char buffer");
    detail::explain_unreadable<T>();
    const Value* v = find(key);
    if (!v || v->is_null()) return fallback;
    T out{};
    if (!ValueTraits<T>::read(*v, out))
        detail::throw_type_error(detail::describe_key(key) + v->mismatch(ValueTraits<T>::name()));
    return out;
}

template <class T>
std::optional<T> Map::try_get(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return std::nullopt;
    return v->try_as<T>();
}

}  // namespace sprocket

/// \code
/// sprocket::Value v = sprocket::List{1, 2.5, "three"};
/// for (const sprocket::Value& x : v.as<sprocket::List>()) std::cout << x.type() << ' ';
/// sprocket::Map m{{"hp", 100}};
/// m["name"] = "ann";
/// int hp = m.get<int>("hp");              // throws KeyError / TypeError when it cannot
/// auto mp = m.try_get<int>("mp");         // std::nullopt
/// if (const sprocket::Value* v = m.find("name")) std::cout << *v;   // "ann"
/// \endcode

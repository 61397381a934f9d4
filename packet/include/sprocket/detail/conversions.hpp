#pragma once
/// \file
/// How C++ types convert to and from `Value`: the `ValueTraits` specializations.
///
/// | C++ type | stored as | read back from |
/// | --- | --- | --- |
/// | `bool` | bool | bool |
/// | integers (`char` included) | integer (int64; `uint64_t` above INT64_MAX throws `std::out_of_range`) | an integer in range, or a whole real in range |
/// | `float`, `double` | real | a real (into `float`: rounded), or an integer it represents exactly |
/// | enums with a fixed underlying type | integer | an integer the underlying type holds |
/// | `std::string`, `std::string_view`, `const char*` | string | string (not `const char*`) |
/// | `Bytes`, `List`, `Map` (and `Packet`), `Object` | themselves | themselves |
/// | `std::vector<T>` | list | a list whose every element reads as `T` |
/// | `std::map` / `std::unordered_map` with `std::string` keys | map | a map whose every value reads |
/// | `std::optional<T>` | null or `T` | null or `T` |
/// | any other class cereal can serialize (default-constructible) | object | an object whose bytes decode as it, to the last byte |
///
/// Included by value.hpp, in its middle (after Map and Value, before their templates):
/// include <sprocket/value.hpp>, not this file.

namespace sprocket {

namespace detail {
std::string demangle(const char* mangled);
std::string describe_key(std::string_view key);
[[noreturn]] void throw_type_error(const std::string& text);

template <class T>
struct is_std_vector : std::false_type {};
template <class T, class A>
struct is_std_vector<std::vector<T, A>> : std::true_type {};
template <class T>
struct is_string_map : std::false_type {};
template <class V, class C, class A>
struct is_string_map<std::map<std::string, V, C, A>> : std::true_type {};
template <class V, class H, class E, class A>
struct is_string_map<std::unordered_map<std::string, V, H, E, A>> : std::true_type {};
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

/// Types with a conversion of their own; everything else of class type goes through cereal.
template <class T>
inline constexpr bool has_own_conversion =
    std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view> ||
    std::is_same_v<T, Object> || std::is_same_v<T, Value> || std::is_base_of_v<Map, T> ||
    is_std_vector<T>::value || is_string_map<T>::value || is_optional<T>::value;

template <class T>
struct is_cereal_wrapped : std::false_type {};
template <class T>
struct is_cereal_wrapped<cereal::BinaryData<T>> : std::true_type {};
template <class T>
struct is_cereal_wrapped<cereal::SizeTag<T>> : std::true_type {};
template <class T>
struct is_cereal_wrapped<cereal::NameValuePair<T>> : std::true_type {};

// std::conjunction stops at the first false, so cereal's traits are only asked about class
// types that sprocket does not convert itself.
template <class T>
inline constexpr bool is_cereal_object = std::conjunction_v<
    std::is_class<T>, std::negation<std::bool_constant<has_own_conversion<T>>>,
    std::negation<is_cereal_wrapped<T>>, std::is_default_constructible<T>,
    cereal::traits::is_output_serializable<T, ByteOutputArchive>,
    cereal::traits::is_input_serializable<T, ByteInputArchive>>;

template <class T, class = void>
struct enum_list_init : std::false_type {};
template <class T>
struct enum_list_init<T, std::void_t<decltype(T{std::underlying_type_t<T>{}})>> : std::true_type {};
/// True for enums whose underlying type is fixed (only those may be list-initialized from it).
template <class T>
struct has_fixed_underlying_type : std::conjunction<std::is_enum<T>, enum_list_init<T>> {};

template <class T, class = void>
struct is_readable : std::false_type {};
template <class T>
struct is_readable<T, std::void_t<decltype(ValueTraits<T>::read(std::declval<const Value&>(), std::declval<T&>()))>>
    : std::true_type {};

template <class T>
struct is_keyed_map : std::false_type {};
template <class K, class V, class C, class A>
struct is_keyed_map<std::map<K, V, C, A>> : std::true_type {};
template <class K, class V, class H, class E, class A>
struct is_keyed_map<std::unordered_map<K, V, H, E, A>> : std::true_type {};

template <class T>
inline constexpr bool dependent_false = false;

// The messages of explain_unsupported / explain_unreadable, one per mistake.
#define SPROCKET_NEEDS_SERIALIZE                                                                   \
    "sprocket: this type cannot go into a Value. Give it a cereal serialize function:\n"          \
    "    template <class A> void serialize(A& a) { a(x, y); }\n"                                  \
    "std::string and std::vector members work as they are; for other standard types among its " \
    "members include cereal's header (std::map: <cereal/types/map.hpp>, std::array: "             \
    "<cereal/types/array.hpp>, ...). It must be default-constructible. See the README, "          \
    "\"Packets\"."

template <class T>
constexpr void explain_unsupported() {
    if constexpr (is_keyed_map<T>::value) {
        static_assert(dependent_false<T>,
                      "sprocket: a map in a Value has std::string keys (like a Packet): use "
                      "std::map<std::string, T> or std::unordered_map<std::string, T>; for "
                      "number keys, send a list of pairs or turn the keys into strings");
    } else if constexpr (is_std_vector<T>::value) {
        static_assert(dependent_false<T>,
                      "sprocket: this vector's element type cannot go into a Value (see the "
                      "message for the element type, or give it a cereal serialize function)");
    } else {
        static_assert(dependent_false<T>, SPROCKET_NEEDS_SERIALIZE);
    }
}

template <class T>
constexpr void explain_unreadable() {
    if constexpr (!is_readable<T>::value) {
        if constexpr (std::is_pointer_v<T>) {
            static_assert(dependent_false<T>, "sprocket: read text as std::string (or std::string_view), not as a pointer");
        } else {
            explain_unsupported<T>();
        }
    }
}
#undef SPROCKET_NEEDS_SERIALIZE

/// Writes `text` in double quotes with JSON-style escapes, at most `limit` bytes of it (then "...").
void write_quoted(std::ostream& os, std::string_view text, std::size_t limit = std::string_view::npos);

template <class T>
std::string integer_name() {
    return std::string(std::is_signed_v<T> ? "int" : "uint") + std::to_string(sizeof(T) * 8);
}
}  // namespace detail

// --- conversions ------------------------------------------------------------------------------

template <>
struct ValueTraits<std::nullptr_t> {
    static constexpr bool defined = true;
    static void store(Value::Storage& s, std::nullptr_t) { s.emplace<std::nullptr_t>(); }
    static bool read(const Value& v, std::nullptr_t&) { return v.is_null(); }
    static std::string name() { return "null"; }
};

template <class T>
struct ValueTraits<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
    static constexpr bool defined = true;
    static void store(Value::Storage& s, T i) {
        if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
            if (i > static_cast<T>(std::numeric_limits<std::int64_t>::max()))
                throw std::out_of_range("[sprocket.packet] integer " + std::to_string(i) +
                                        " does not fit in int64");
        }
        s.emplace<std::int64_t>(static_cast<std::int64_t>(i));
    }
    static bool read(const Value& v, T& out) {
        const std::int64_t* i = v.get_if<std::int64_t>();
        if (!i) {
            // A real that is a whole number in range loses nothing: 3.0 reads as 3, 2.5 does not.
            const double* d = v.get_if<double>();
            if (!d || std::trunc(*d) != *d) return false;  // also rejects NaN and infinities
            const double low = static_cast<double>(std::numeric_limits<T>::min());
            const double high = std::ldexp(1.0, std::numeric_limits<T>::digits);  // exclusive
            if (!(*d >= low && *d < high)) return false;
            out = static_cast<T>(*d);
            return true;
        }
        if constexpr (std::is_signed_v<T>) {
            if (*i < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
                *i > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
                return false;
        } else {
            if (*i < 0 || static_cast<std::uint64_t>(*i) > std::numeric_limits<T>::max()) return false;
        }
        out = static_cast<T>(*i);
        return true;
    }
    static std::string name() { return detail::integer_name<T>(); }
};

template <class T>
struct ValueTraits<T, std::enable_if_t<std::is_floating_point_v<T>>> {
    static_assert(!std::is_same_v<T, long double>, "long double is not supported: use double");
    static constexpr bool defined = true;
    static void store(Value::Storage& s, T d) { s.emplace<double>(static_cast<double>(d)); }
    static bool read(const Value& v, T& out) {
        if (const double* d = v.get_if<double>()) {
            if constexpr (std::is_same_v<T, float>) {  // rounds; fails only when out of range
                if (std::isfinite(*d) && std::fabs(*d) > std::numeric_limits<float>::max()) return false;
            }
            out = static_cast<T>(*d);
            return true;
        }
        if (const std::int64_t* i = v.get_if<std::int64_t>()) {  // exact or not at all
            const T t = static_cast<T>(*i);
            if (t >= static_cast<T>(9223372036854775808.0) || static_cast<std::int64_t>(t) != *i) return false;
            out = t;
            return true;
        }
        return false;
    }
    static std::string name() { return std::is_same_v<T, float> ? "float" : "double"; }
};

/// Enums with a fixed underlying type (every `enum class`, and `enum E : int`) <-> integer.
/// Others are refused: any integer read into them could be a value the enum cannot hold.
template <class T>
struct ValueTraits<T, std::enable_if_t<detail::has_fixed_underlying_type<T>::value>> {
    using U = std::underlying_type_t<T>;
    static constexpr bool defined = true;
    static void store(Value::Storage& s, T e) { ValueTraits<U>::store(s, static_cast<U>(e)); }
    static bool read(const Value& v, T& out) {
        U u{};
        if (!ValueTraits<U>::read(v, u)) return false;
        out = static_cast<T>(u);
        return true;
    }
    static std::string name() { return "enum " + detail::demangle(typeid(T).name()); }
};

template <>
struct ValueTraits<const char*> {
    static constexpr bool defined = true;
    static void store(Value::Storage& s, const char* str) {
        if (str)
            s.emplace<std::string>(str);
        else
            s.emplace<std::nullptr_t>();
    }
    // No read: a const char* could not own the characters. Read a std::string.
    static std::string name() { return "string"; }
};
template <>
struct ValueTraits<char*> : ValueTraits<const char*> {};

/// Types held as one of Value's own alternatives, `Stored`. They read back from exactly that
/// alternative; `std::string_view` reads a view of the held string (valid while the value
/// lives and is not changed).
template <class Stored>
struct StoredAsIs {
    static constexpr bool defined = true;
    template <class U>
    static void store(Value::Storage& s, U&& x) { s.emplace<Stored>(std::forward<U>(x)); }
    template <class Out>
    static bool read(const Value& v, Out& out) {
        const Stored* p = v.get_if<Stored>();
        if (p) out = *p;
        return p != nullptr;
    }
};
template <>
struct ValueTraits<bool> : StoredAsIs<bool> {
    static std::string name() { return "bool"; }
};
template <>
struct ValueTraits<std::string> : StoredAsIs<std::string> {
    static std::string name() { return "string"; }
};
template <>
struct ValueTraits<std::string_view> : StoredAsIs<std::string> {
    static std::string name() { return "string"; }
};
template <>
struct ValueTraits<Bytes> : StoredAsIs<Bytes> {
    static std::string name() { return "bytes"; }
};
template <>
struct ValueTraits<List> : StoredAsIs<List> {
    static std::string name() { return "list"; }
};
template <>
struct ValueTraits<Object> : StoredAsIs<Object> {
    static std::string name() { return "object"; }
};
template <>
struct ValueTraits<Value> {
    static constexpr bool defined = true;
    static bool read(const Value& v, Value& out) {
        out = v;
        return true;
    }
    static std::string name() { return "value"; }
};

/// Map and anything derived from it (a Packet stored inside a value becomes a plain map).
template <class T>
struct ValueTraits<T, std::enable_if_t<std::is_base_of_v<Map, T>>> {
    static constexpr bool defined = true;
    static void store(Value::Storage& s, const Map& m) { s.emplace<Map>(m); }
    static void store(Value::Storage& s, Map&& m) { s.emplace<Map>(std::move(m)); }
    static bool read(const Value& v, T& out) {
        const Map* p = v.get_if<Map>();
        if (p) static_cast<Map&>(out) = *p;
        return p != nullptr;
    }
    static std::string name() { return "map"; }
};

/// std::vector<T> of convertible T (other than bytes and List) <-> list.
template <class T, class A>
struct ValueTraits<std::vector<T, A>,
                   std::enable_if_t<ValueTraits<T>::defined && !std::is_same_v<T, Value> &&
                                    !std::is_same_v<std::vector<T, A>, Bytes>>> {
    static constexpr bool defined = true;
    static void store(Value::Storage& s, const std::vector<T, A>& vec) {
        List list;
        list.reserve(vec.size());
        for (const auto& x : vec) list.emplace_back(x);
        s.emplace<List>(std::move(list));
    }
    static bool read(const Value& v, std::vector<T, A>& out) {
        const List* list = v.get_if<List>();
        if (!list) return false;
        std::vector<T, A> result;
        result.reserve(list->size());
        for (const Value& x : *list) {
            T t{};
            if (!ValueTraits<T>::read(x, t)) return false;
            result.push_back(std::move(t));
        }
        out = std::move(result);
        return true;
    }
    static std::string name() { return "list of " + ValueTraits<T>::name(); }
};

/// std::map / std::unordered_map with std::string keys <-> map.
template <class M>
struct ValueTraits<M, std::enable_if_t<detail::is_string_map<M>::value &&
                                       ValueTraits<typename M::mapped_type>::defined>> {
    using V = typename M::mapped_type;
    static constexpr bool defined = true;
    static void store(Value::Storage& s, const M& m) {
        // In key order: each entry then goes at the end of the map's order (an unordered_map's
        // own order would make every insertion move the ones after it).
        std::vector<const typename M::value_type*> sorted;
        sorted.reserve(m.size());
        for (const auto& e : m) sorted.push_back(&e);
        std::sort(sorted.begin(), sorted.end(),
                  [](const auto* a, const auto* b) { return KeyLess()(a->first, b->first); });
        Map map;
        for (const auto* e : sorted) map.set(e->first, e->second);
        s.emplace<Map>(std::move(map));
    }
    static bool read(const Value& v, M& out) {
        const Map* map = v.get_if<Map>();
        if (!map) return false;
        M result;
        for (const auto& [k, x] : *map) {
            V t{};
            if (!ValueTraits<V>::read(x, t)) return false;
            result.emplace_hint(result.end(), k, std::move(t));  // in key order
        }
        out = std::move(result);
        return true;
    }
    static std::string name() { return "map of " + ValueTraits<V>::name(); }
};

/// std::optional<T> <-> null or T.
template <class T>
struct ValueTraits<std::optional<T>, std::enable_if_t<ValueTraits<T>::defined>> {
    static constexpr bool defined = true;
    static void store(Value::Storage& s, const std::optional<T>& o) {
        if (o)
            ValueTraits<T>::store(s, *o);
        else
            s.emplace<std::nullptr_t>();
    }
    static bool read(const Value& v, std::optional<T>& out) {
        if (v.is_null()) {
            out.reset();
            return true;
        }
        T t{};
        if (!ValueTraits<T>::read(v, t)) return false;
        out = std::move(t);
        return true;
    }
    static std::string name() { return ValueTraits<T>::name() + " or null"; }
};

/// Any other class type cereal can serialize with sprocket's archives <-> object.
template <class T>
struct ValueTraits<T, std::enable_if_t<detail::is_cereal_object<T>>> {
    static constexpr bool defined = true;
    static void store(Value::Storage& s, const T& x) {
        Object object;
        {
            ByteOutputArchive ar(object.blob);
            ar(x);
        }
        s.emplace<Object>(std::move(object));
    }
    /// Fails (returns false) when the value is not an object or its bytes do not decode as a
    /// `T` to the last byte. Exceptions thrown by T's own serialize function propagate.
    static bool read(const Value& v, T& out) {
        const Object* object = v.get_if<Object>();
        if (!object) return false;
        try {
            ByteInputArchive ar(object->blob.data(), object->blob.size());
            T t{};
            ar(t);
            if (ar.remaining() != 0) return false;
            out = std::move(t);
            return true;
        } catch (const cereal::Exception&) {  // malformed bytes: not a T
            return false;
        }
    }
    static std::string name() { return "object " + detail::demangle(typeid(T).name()); }
};

}  // namespace sprocket

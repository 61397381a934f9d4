#include <sprocket/value.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cxxabi.h>
#include <memory>
#include <ostream>
#include <sstream>

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

Map::Map(std::initializer_list<Entry> entries) {
    for (const Entry& e : entries) entries_.insert_or_assign(e.first, e.second);  // last one wins
}

Value& Map::operator[](std::string_view key) {
    auto it = entries_.lower_bound(key);
    if (it != entries_.end() && it->first == key) return it->second;
    return entries_.emplace_hint(it, std::string(key), Value())->second;
}

const Value* Map::find(std::string_view key) const noexcept {
    auto it = entries_.find(key);
    return it != entries_.end() ? &it->second : nullptr;
}

Value* Map::find(std::string_view key) noexcept {
    auto it = entries_.find(key);
    return it != entries_.end() ? &it->second : nullptr;
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
    auto it = entries_.find(key);
    if (it == entries_.end()) return false;
    entries_.erase(it);
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

bool operator==(const Map& a, const Map& b) { return a.entries_ == b.entries_; }

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

// Value: construction from every supported C++ type, typed reads and their conversion rules.
#include <sprocket/value.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

using namespace sprocket;

namespace {
std::string text(const Value& v) {
    std::ostringstream os;
    os << v;
    return os.str();
}
enum class Weapon : std::uint8_t { sword = 1, bow = 7 };
}  // namespace

TEST_CASE("a default value is null") {
    Value v;
    CHECK(v.is_null());
    CHECK(v.type() == ValueType::null);
    CHECK(Value(nullptr) == v);
}

TEST_CASE("each C++ type lands in the expected value type") {
    CHECK(Value(true).type() == ValueType::boolean);
    CHECK(Value(3).type() == ValueType::integer);
    CHECK(Value(std::int8_t{-3}).type() == ValueType::integer);
    CHECK(Value(std::uint64_t{7}).type() == ValueType::integer);
    CHECK(Value('a').type() == ValueType::integer);
    CHECK(Value(2.5).type() == ValueType::real);
    CHECK(Value(2.5f).type() == ValueType::real);
    CHECK(Value("abc").type() == ValueType::string);
    CHECK(Value(std::string("abc")).type() == ValueType::string);
    CHECK(Value(std::string_view("abc")).type() == ValueType::string);
    CHECK(Value(Bytes{1, 2}).type() == ValueType::bytes);
    CHECK(Value(List{1, "a"}).type() == ValueType::list);
    CHECK(Value(Map{{"a", 1}}).type() == ValueType::map);
    CHECK(Value{{"a", 1}, {"b", 2}}.type() == ValueType::map);
    CHECK(Value(Weapon::bow).type() == ValueType::integer);
    CHECK(Value(std::vector<int>{1, 2}).type() == ValueType::list);
    CHECK(Value(std::map<std::string, int>{{"a", 1}}).type() == ValueType::map);
    CHECK(Value(std::unordered_map<std::string, double>{{"a", 1.5}}).type() == ValueType::map);
    CHECK(Value(std::optional<int>{}).type() == ValueType::null);
    CHECK(Value(std::optional<int>{4}).type() == ValueType::integer);
    const char* null_text = nullptr;
    CHECK(Value(null_text).is_null());
}

TEST_CASE("an unsigned value above INT64_MAX is refused at construction") {
    const auto too_big = std::numeric_limits<std::uint64_t>::max();
    CHECK_THROWS_AS(Value{too_big}, std::out_of_range);
    CHECK(Value(std::uint64_t{INT64_MAX}).as<std::uint64_t>() == std::uint64_t{INT64_MAX});
}

TEST_CASE("integers read into any integer type that holds them") {
    CHECK(Value(300).as<int>() == 300);
    CHECK(Value(300).as<std::uint16_t>() == 300);
    CHECK(Value(-1).as<std::int8_t>() == -1);
    CHECK(Value(INT64_MIN).as<std::int64_t>() == INT64_MIN);
    CHECK_THROWS_AS(Value(300).as<std::uint8_t>(), TypeError);
    CHECK_THROWS_AS(Value(-1).as<unsigned>(), TypeError);
    CHECK_THROWS_AS(Value(std::int64_t{1} << 40).as<int>(), TypeError);
    CHECK(Value(Weapon::bow).as<Weapon>() == Weapon::bow);
    CHECK_THROWS_AS(Value(1000).as<Weapon>(), TypeError);
}

TEST_CASE("integers read as reals only when exact") {
    CHECK(Value(3).as<double>() == 3.0);
    CHECK(Value(-7).as<float>() == -7.0f);
    CHECK(Value(std::int64_t{1} << 53).as<double>() == 9007199254740992.0);
    CHECK_THROWS_AS(Value((std::int64_t{1} << 53) + 1).as<double>(), TypeError);
    CHECK_THROWS_AS(Value((1 << 24) + 1).as<float>(), TypeError);
    CHECK_THROWS_AS(Value(INT64_MAX).as<double>(), TypeError);
    CHECK(Value(INT64_MIN).as<double>() == -9223372036854775808.0);
}

TEST_CASE("reals read as integers only when whole and in range") {
    CHECK(Value(3.0).as<int>() == 3);
    CHECK(Value(-128.0).as<std::int8_t>() == -128);
    CHECK(Value(255.0).as<std::uint8_t>() == 255);
    CHECK(Value(-9223372036854775808.0).as<std::int64_t>() == INT64_MIN);
    CHECK_THROWS_AS(Value(2.5).as<std::int64_t>(), TypeError);
    CHECK_THROWS_AS(Value(256.0).as<std::uint8_t>(), TypeError);
    CHECK_THROWS_AS(Value(-1.0).as<unsigned>(), TypeError);
    CHECK_THROWS_AS(Value(9223372036854775808.0).as<std::int64_t>(), TypeError);
    CHECK_THROWS_AS(Value(1e300).as<std::uint64_t>(), TypeError);
    CHECK_THROWS_AS(Value(std::nan("")).as<int>(), TypeError);
    CHECK_THROWS_AS(Value(std::numeric_limits<double>::infinity()).as<int>(), TypeError);
}

namespace {
enum Loose { loose_a, loose_b };         // no fixed underlying type: not convertible
enum Tight : std::uint8_t { tight_a };  // fixed: convertible
}  // namespace

TEST_CASE("only enums with a fixed underlying type convert") {
    static_assert(is_value_convertible<Weapon>);
    static_assert(is_value_convertible<Tight>);
    static_assert(!is_value_convertible<Loose>);  // 7 read into it would be undefined behaviour
    CHECK(Value(tight_a).as<Tight>() == tight_a);
}

TEST_CASE("types that can be stored but not read back are refused at compile time") {
    static_assert(is_value_convertible<const char*>);
    static_assert(!detail::is_readable<const char*>::value);  // read a std::string instead
    static_assert(detail::is_readable<std::string_view>::value);
    static_assert(detail::is_readable<std::optional<std::vector<int>>>::value);
    CHECK(true);
}

TEST_CASE("a real read as float rounds, unless it is out of float range") {
    CHECK(Value(0.1).as<float>() == 0.1f);
    CHECK(Value(312.5).as<float>() == 312.5f);
    CHECK(std::isinf(Value(std::numeric_limits<double>::infinity()).as<float>()));
    CHECK(std::isnan(Value(std::nan("")).as<float>()));
    CHECK_THROWS_AS(Value(1e300).as<float>(), TypeError);
    CHECK_FALSE(Value(-1e300).try_as<float>().has_value());
}

TEST_CASE("strings, bytes, lists and maps read back as themselves only") {
    CHECK(Value("hi").as<std::string>() == "hi");
    CHECK(Value("hi").as<std::string_view>() == "hi");
    CHECK(Value(Bytes{1, 2, 3}).as<Bytes>() == Bytes{1, 2, 3});
    CHECK(Value(List{1, 2}).as<List>() == List{1, 2});
    CHECK(Value(Map{{"k", 1}}).as<Map>() == Map{{"k", 1}});
    CHECK_THROWS_AS(Value("hi").as<Bytes>(), TypeError);
    CHECK_THROWS_AS(Value(Bytes{1}).as<std::string>(), TypeError);
    CHECK_THROWS_AS(Value(1).as<std::string>(), TypeError);
    CHECK_THROWS_AS(Value(1).as<bool>(), TypeError);
    CHECK_THROWS_AS(Value(true).as<int>(), TypeError);
    CHECK_THROWS_AS(Value(List{}).as<Map>(), TypeError);
}

TEST_CASE("vectors, string maps and optionals convert element by element") {
    const Value v(std::vector<float>{1.5f, 2.0f});
    CHECK(v.as<std::vector<double>>() == std::vector<double>{1.5, 2.0});
    CHECK(Value(List{1, 2, 3}).as<std::vector<int>>() == std::vector<int>{1, 2, 3});
    CHECK_THROWS_AS(Value(List{1, "two"}).as<std::vector<int>>(), TypeError);

    const Value m(std::map<std::string, int>{{"a", 1}, {"b", 2}});
    using LongMap = std::unordered_map<std::string, long>;
    CHECK(m.as<LongMap>() == LongMap{{"a", 1}, {"b", 2}});
    using IntMap = std::map<std::string, int>;
    CHECK_THROWS_AS(Value(Map{{"a", "x"}}).as<IntMap>(), TypeError);

    CHECK(Value().as<std::optional<int>>() == std::nullopt);
    CHECK(Value(5).as<std::optional<int>>() == 5);
    CHECK_THROWS_AS(Value("5").as<std::optional<int>>(), TypeError);
}

TEST_CASE("a big unordered_map converts in key order, as a std::map does") {
    std::unordered_map<std::string, int> unordered;
    std::map<std::string, int> ordered;
    for (int i = 0; i < 50000; ++i) {
        unordered.emplace("key" + std::to_string(i * 7919 % 50000), i);
        ordered.emplace("key" + std::to_string(i * 7919 % 50000), i);
    }
    const Value a = unordered, b = ordered;
    CHECK(a == b);
    const Map& map = *a.get_if<Map>();
    CHECK(map.size() == 50000);
    CHECK(std::is_sorted(map.begin(), map.end(), [](const Map::Entry& x, const Map::Entry& y) { return x.first < y.first; }));
    CHECK(a.as<std::unordered_map<std::string, int>>() == unordered);
    CHECK(b.as<std::map<std::string, int>>() == ordered);
}

TEST_CASE("type errors say what was asked and what is held") {
    CHECK_THROWS_WITH_AS(Value("abc").as<int>(),
                         "[sprocket.packet] asked for int32, but holds string \"abc\"", TypeError);
    CHECK_THROWS_WITH_AS(Value(300).as<std::uint8_t>(),
                         "[sprocket.packet] asked for uint8, but holds integer 300", TypeError);
    CHECK_THROWS_WITH_AS(Value(List{1, 2}).as<std::vector<std::string>>(),
                         "[sprocket.packet] asked for list of string, but holds list of 2 elements", TypeError);
    CHECK_THROWS_WITH_AS(Value().as<double>(), "[sprocket.packet] asked for double, but holds null", TypeError);
    // Long strings (wire data) are shortened in messages.
    CHECK_THROWS_WITH_AS(Value(std::string(100, 'a')).as<int>(),
                         ("[sprocket.packet] asked for int32, but holds string \"" + std::string(64, 'a') + "\"...").c_str(),
                         TypeError);
}

TEST_CASE("try_as gives nullopt instead of throwing") {
    CHECK(Value(4).try_as<int>() == 4);
    CHECK_FALSE(Value("4").try_as<int>().has_value());
}

TEST_CASE("get_if reads the stored alternative without copying") {
    Value v("text");
    REQUIRE(v.get_if<std::string>() != nullptr);
    CHECK(*v.get_if<std::string>() == "text");
    CHECK(v.get_if<std::int64_t>() == nullptr);
    v.get_if<std::string>()->append("!");
    CHECK(v.as<std::string>() == "text!");
}

TEST_CASE("equality compares type and content") {
    CHECK(Value(1) == Value(1));
    CHECK(Value(1) != Value(1.0));
    CHECK(Value("a") != Value(Bytes{'a'}));
    CHECK(Value(List{1, List{2}}) == Value(List{1, List{2}}));
    CHECK(Value{{"a", 1}, {"b", 2}} == Value{{"b", 2}, {"a", 1}});
}

TEST_CASE("values print as JSON-like text") {
    CHECK(text(Value()) == "null");
    CHECK(text(Value(true)) == "true");
    CHECK(text(Value(-12)) == "-12");
    CHECK(text(Value(3.0)) == "3.0");
    CHECK(text(Value(0.1)) == "0.1");
    CHECK(text(Value(-48.25)) == "-48.25");
    CHECK(text(Value(1e300)) == "1e+300");
    CHECK(text(Value(std::numeric_limits<double>::infinity())) == "inf");
    CHECK(text(Value("a\"b\n\x01")) == "\"a\\\"b\\n\\u0001\"");
    CHECK(text(Value(Bytes{0x01, 0xab})) == "<2 bytes: 01 ab>");
    CHECK(text(Value(Bytes{})) == "<0 bytes>");
    CHECK(text(Value(Bytes(20, 0))) == "<20 bytes: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 ...>");
    CHECK(text(Value(List{1, "x", List{}})) == "[1, \"x\", []]");
    CHECK(text(Value{{"b", 2}, {"a", Map{{"c", nullptr}}}}) == "{\"a\": {\"c\": null}, \"b\": 2}");
    CHECK(text(Value(Object{Bytes{1, 2, 3}})) == "<object, 3 bytes>");
}

TEST_CASE("value types have names") {
    CHECK(std::string(to_string(ValueType::integer)) == "integer");
    CHECK(std::string(to_string(ValueType::object)) == "object");
    std::ostringstream os;
    os << ValueType::bytes;
    CHECK(os.str() == "bytes");
}

// Types that convert to a Value on their own still go into values and literals (the
// compile-time messages for unsupported types must not catch them).
#include <sprocket/packet.hpp>

#include <doctest/doctest.h>

#include <functional>

namespace {

struct Vec2 {
    float x = 0, y = 0;
    operator sprocket::Value() const { return sprocket::Map{{"x", x}, {"y", y}}; }  // NOLINT: converts on purpose
};

struct Tagged : sprocket::Value {
    using sprocket::Value::Value;
};

}  // namespace

TEST_CASE("a type with operator Value(), a class derived from Value and a reference_wrapper go into values") {
    const Vec2 w{1.5f, 2};
    sprocket::Packet p;
    sprocket::Value v;
    v = w;
    p["pos"] = w;
    CHECK(p.get<sprocket::Map>("pos").get<float>("x") == 1.5f);
    CHECK(v == p.at("pos"));
    const sprocket::Map literal{{"pos", w}};
    CHECK(literal.at("pos") == v);

    const Tagged t(3);
    v = t;
    p["t"] = t;
    CHECK(p.get<int>("t") == 3);
    const sprocket::Value five = 5;
    v = std::cref(five);
    CHECK(v.as<int>() == 5);
}

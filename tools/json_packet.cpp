#include "json_packet.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

namespace sprocket::cat {

namespace {

using nlohmann::json;

constexpr int max_depth = 32;  // as the codec allows
constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Value value_from(const json& j, int depth);

Map map_from(const json& j, int depth, bool top) {
    Map map;
    for (const auto& [key, v] : j.items()) {
        if (top && key == "$channel") continue;
        map.set(key, value_from(v, depth + 1));
    }
    return map;
}

Value value_from(const json& j, int depth) {
    if (depth > max_depth) throw JsonError("nested deeper than " + std::to_string(max_depth) + " levels");
    switch (j.type()) {
    case json::value_t::null: return Value(nullptr);
    case json::value_t::boolean: return Value(j.get<bool>());
    case json::value_t::number_integer: return Value(j.get<std::int64_t>());
    case json::value_t::number_unsigned: {
        const auto u = j.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            throw JsonError("integer " + std::to_string(u) + " does not fit in 64 signed bits");
        return Value(static_cast<std::int64_t>(u));
    }
    case json::value_t::number_float: return Value(j.get<double>());
    case json::value_t::string: return Value(j.get<std::string>());
    case json::value_t::array: {
        List list;
        list.reserve(j.size());
        for (const json& item : j) list.push_back(value_from(item, depth + 1));
        return Value(std::move(list));
    }
    case json::value_t::object:
        if (j.size() == 1 && j.contains("$bytes")) {
            if (!j["$bytes"].is_string()) throw JsonError("$bytes must be a base64 string");
            return Value(base64_decode(j["$bytes"].get<std::string>()));
        }
        if (j.size() == 1 && j.contains("$object")) {
            if (!j["$object"].is_string()) throw JsonError("$object must be a base64 string");
            return Value(Object{base64_decode(j["$object"].get<std::string>())});
        }
        return Value(map_from(j, depth, false));
    case json::value_t::binary:
    case json::value_t::discarded: break;
    }
    throw JsonError("a value with no packet equivalent");
}

json to_json(const Value& v) {
    struct Visit {
        json operator()(std::nullptr_t) const { return nullptr; }
        json operator()(bool b) const { return b; }
        json operator()(std::int64_t i) const { return i; }
        json operator()(double d) const { return std::isfinite(d) ? json(d) : json(nullptr); }
        json operator()(const std::string& s) const { return s; }
        json operator()(const Bytes& b) const { return json{{"$bytes", base64_encode(b)}}; }
        json operator()(const List& l) const {
            json out = json::array();
            for (const Value& item : l) out.push_back(to_json(item));
            return out;
        }
        json operator()(const Map& m) const {
            json out = json::object();
            for (const auto& [key, item] : m) out[key] = to_json(item);
            return out;
        }
        json operator()(const Object& o) const { return json{{"$object", base64_encode(o.blob)}}; }
    };
    return std::visit(Visit{}, v.storage());
}

}  // namespace

Packet packet_from_json(std::string_view line) {
    json j;
    try {
        j = json::parse(line.begin(), line.end());
    } catch (const json::parse_error& e) {
        throw JsonError(std::string("malformed JSON: ") + e.what());
    }
    if (!j.is_object()) throw JsonError("a packet is a JSON object: {\"key\": value, ...}");
    Packet packet(map_from(j, 0, true));
    if (j.contains("$channel")) {
        if (!j["$channel"].is_string()) throw JsonError("$channel must be a string");
        packet.set_channel(j["$channel"].get<std::string>());
    }
    return packet;
}

std::string packet_to_json(const Packet& packet) {
    json out = json::object();
    if (!packet.channel().empty()) out["$channel"] = packet.channel();
    for (const auto& [key, item] : packet) out[key] = to_json(item);
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string base64_encode(const Bytes& bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const std::uint32_t n = (std::uint32_t{bytes[i]} << 16) | (i + 1 < bytes.size() ? std::uint32_t{bytes[i + 1]} << 8 : 0u) |
                                (i + 2 < bytes.size() ? std::uint32_t{bytes[i + 2]} : 0u);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += i + 1 < bytes.size() ? alphabet[(n >> 6) & 63] : '=';
        out += i + 2 < bytes.size() ? alphabet[n & 63] : '=';
    }
    return out;
}

Bytes base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) throw JsonError("bad base64: its length is not a multiple of 4");
    const auto digit = [](char c) -> std::uint32_t {
        if (c >= 'A' && c <= 'Z') return static_cast<std::uint32_t>(c - 'A');
        if (c >= 'a' && c <= 'z') return static_cast<std::uint32_t>(c - 'a' + 26);
        if (c >= '0' && c <= '9') return static_cast<std::uint32_t>(c - '0' + 52);
        if (c == '+') return 62;
        if (c == '/') return 63;
        throw JsonError(std::string("bad base64: unexpected character '") + c + "'");
    };
    Bytes out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        const int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
        if (pad == 1 && text[i + 2] == '=') throw JsonError("bad base64: misplaced '='");
        const std::uint32_t n = (digit(text[i]) << 18) | (digit(text[i + 1]) << 12) |
                                (pad >= 2 ? 0u : digit(text[i + 2]) << 6) | (pad >= 1 ? 0u : digit(text[i + 3]));
        out.push_back(static_cast<std::uint8_t>(n >> 16));
        if (pad < 2) out.push_back(static_cast<std::uint8_t>(n >> 8));
        if (pad < 1) out.push_back(static_cast<std::uint8_t>(n));
    }
    return out;
}

}  // namespace sprocket::cat

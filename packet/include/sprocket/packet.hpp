#pragma once
/// \file
/// `Packet`: what sprocket sends and receives. A map from string keys to values (see
/// value.hpp for the value types and the typed-access rules), plus an optional channel name.

#include <sprocket/value.hpp>

#include <iosfwd>
#include <string>
#include <utility>

namespace sprocket {

/// A map of string keys to values, with an optional channel name ("" = no channel) that lets a
/// receiver drain one channel or keep only the newest packet of it.
///
/// Construction reads like the data; typed reads say exactly what went wrong:
/// \code
/// sprocket::Packet p{{"x", 3}, {"y", 2.5}, {"id", "Player 1"}};
/// p["hp"] = 100;
/// int x = p.get<int>("x");            // throws sprocket::KeyError / sprocket::TypeError
/// int hp = p.get_or("hp", 100);       // 100 when absent; TypeError when it holds another type
/// auto chat = sprocket::Packet::on("chat", {{"text", "gg"}});
/// \endcode
class Packet : public Map {
public:
    Packet() = default;
    /// `Packet{{"x", 3}, {"id", "Player 1"}}`; when a key repeats, the last one wins.
    Packet(std::initializer_list<Field> fields) : Map(fields) {}
    /// A packet with the entries of `map` and no channel.
    explicit Packet(Map map) : Map(std::move(map)) {}

    /// A packet on a channel: `Packet::on("chat", {{"text", "hi"}})`.
    static Packet on(std::string channel, std::initializer_list<Field> fields) {
        Packet p(fields);
        p.channel_ = std::move(channel);
        return p;
    }

    /// The channel name; empty when the packet has none.
    const std::string& channel() const noexcept { return channel_; }
    Packet& set_channel(std::string channel) {
        channel_ = std::move(channel);
        return *this;
    }

    /// Same channel and same entries.
    friend bool operator==(const Packet& a, const Packet& b) {
        return a.channel_ == b.channel_ && static_cast<const Map&>(a) == static_cast<const Map&>(b);
    }
    friend bool operator!=(const Packet& a, const Packet& b) { return !(a == b); }

private:
    std::string channel_;
};

/// Bytes of memory a packet holds: sizeof(Packet), its channel's heap memory, and what its
/// storage and entries hold (see `memory_footprint(const Value&)`). A packet `decode` returned
/// and nobody changed since gives its result's `footprint()`. Never throws.
std::size_t memory_footprint(const Packet& packet) noexcept;

/// `{"hp": 100, "x": 3}`, or with a channel `#chat {"text": "gg"}`.
std::ostream& operator<<(std::ostream& os, const Packet& packet);
/// The same text as `operator<<`.
std::string to_string(const Packet& packet);
std::string to_string(const Value& value);

namespace detail {
void save_packet(ByteOutputArchive& ar, const Packet& packet);
void load_packet(ByteInputArchive& ar, Packet& packet);
}  // namespace detail

/// cereal hooks (exact-match templates; see value.hpp): a Packet inside a user type.
template <class T, std::enable_if_t<std::is_same_v<T, Packet>, int> = 0>
void CEREAL_SAVE_FUNCTION_NAME(ByteOutputArchive& ar, const T& packet) { detail::save_packet(ar, packet); }
template <class T, std::enable_if_t<std::is_same_v<T, Packet>, int> = 0>
void CEREAL_LOAD_FUNCTION_NAME(ByteInputArchive& ar, T& packet) { detail::load_packet(ar, packet); }

}  // namespace sprocket

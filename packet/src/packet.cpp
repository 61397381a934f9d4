#include <sprocket/packet.hpp>

#include "map_access.hpp"

#include <algorithm>
#include <cctype>
#include <ostream>
#include <sstream>

namespace sprocket {

std::ostream& operator<<(std::ostream& os, const Packet& packet) {
    const std::string& channel = packet.channel();
    if (!channel.empty()) {
        const bool plain = std::all_of(channel.begin(), channel.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '/';
        });
        os << '#';
        if (plain)
            os << channel;
        else
            detail::write_quoted(os, channel);  // wire data: no raw control bytes in logs
        os << ' ';
    }
    return os << static_cast<const Map&>(packet);
}

std::size_t memory_footprint(const Packet& packet) noexcept {
    return sizeof(Packet) + detail::heap_bytes(packet.channel()) +
           (memory_footprint(static_cast<const Map&>(packet)) - sizeof(Map));
}

std::string to_string(const Packet& packet) {
    std::ostringstream os;
    os << packet;
    return os.str();
}

std::string to_string(const Value& value) {
    std::ostringstream os;
    os << value;
    return os.str();
}

}  // namespace sprocket

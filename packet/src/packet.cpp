#include <sprocket/packet.hpp>

#include <ostream>
#include <sstream>

namespace sprocket {

std::ostream& operator<<(std::ostream& os, const Packet& packet) {
    if (!packet.channel().empty()) os << '#' << packet.channel() << ' ';
    return os << static_cast<const Map&>(packet);
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

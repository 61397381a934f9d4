// expect: a map in a Value has std::string keys
#include <sprocket/packet.hpp>
#include <cstdint>
#include <map>
void store(sprocket::Packet& p) {
    std::map<std::uint32_t, float> scores{{1, 2.5f}};
    p["scores"] = scores;
}

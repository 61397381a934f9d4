// expect: a map in a Value has std::string keys
#include <sprocket/packet.hpp>
#include <cstdint>
#include <map>
sprocket::Packet make(const std::map<std::uint32_t, float>& scores) { return sprocket::Packet{{"scores", scores}}; }

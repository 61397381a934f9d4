// expect: Give it a cereal serialize function
#include <sprocket/packet.hpp>
struct Player { float x, y; };
Player read(const sprocket::Packet& p) { return p.get<Player>("player"); }

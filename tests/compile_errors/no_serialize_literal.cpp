// expect: Give it a cereal serialize function
#include <sprocket/packet.hpp>
struct Player { float x, y; };
sprocket::Packet make() { return sprocket::Packet{{"player", Player{1, 2}}}; }

// expect: Give it a cereal serialize function
// A struct without a serialize function, stored in a packet.
#include <sprocket/packet.hpp>
struct Player { float x, y; };
void store(sprocket::Packet& p) { p["player"] = Player{1, 2}; }

// expect: write get\(100ms\)
#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>
void frame(sprocket::Sprocket& net, sprocket::Servo& server) { net.latest(0); server.latest(0); }

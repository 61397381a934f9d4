// expect: write get\(100ms\)
#include <sprocket/servo.hpp>
void frame(sprocket::Servo& server) { server.get(0); }

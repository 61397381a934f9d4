// expect: write get\(100ms\), wait\(100ms\)
#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>
void frame(sprocket::Sprocket& net, sprocket::Servo& server) { net.wait(100); net.wait_connected(5000); server.wait(100); }

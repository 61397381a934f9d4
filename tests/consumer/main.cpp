// Proves a consuming project gets the headers and libraries of sprocket::servo (and through it
// sprocket::sprocket, sprocket::packet, SFML and cereal): a client and a server talk on
// 127.0.0.1, port 0, and the packet comes back intact.
#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <chrono>
#include <iostream>

int main() {
    using namespace std::chrono_literals;
    sprocket::Servo server(0);
    sprocket::Sprocket client("127.0.0.1", server.port());
    const sprocket::Packet p{{"hello", "world"}};
    client.send(p);
    const auto got = server.get(10s);
    if (got.size() != 1 || got[0].packet != p) return 1;
    std::cout << got[0].packet << '\n';
    return 0;
}

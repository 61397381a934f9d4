// Proves a consuming project gets the headers, the library and cereal through sprocket::packet.
#include <sprocket/codec.hpp>

#include <iostream>

int main() {
    const sprocket::Packet p{{"hello", "world"}};
    auto back = sprocket::decode(sprocket::encode(p));
    if (!back || back.packet() != p) return 1;
    std::cout << back.packet() << '\n';
    return 0;
}

// demo_echo: the smallest round trip. One process runs a Servo that echoes every packet back
// to its sender, and a Sprocket that sends three packets and prints the replies.
//
// Run it:   ./dev build && build/bin/demo_echo
// It prints the three replies and exits with status 0 (1 if they did not all come back
// within 5 seconds).
//
// What it teaches: a server and a client are plain objects; `send` queues a packet and returns
// at once (even before the connection is up); `get()` drains what arrived, never blocking.

#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <chrono>
#include <iostream>
#include <string>

int main() {
    using namespace std::chrono_literals;

    sprocket::Servo server(0);  // port 0: the OS picks a free port
    sprocket::Sprocket client("127.0.0.1", server.port());
    std::cout << "echo server on 127.0.0.1:" << server.port() << '\n';

    // Queued now, sent as soon as the handshake is done.
    constexpr int count = 3;
    for (int i = 1; i <= count; ++i) {
        const std::string text = "ping " + std::to_string(i);
        client.send({{"seq", i}, {"text", text}});
    }

    int replies = 0;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (replies < count && std::chrono::steady_clock::now() < deadline) {
        // The server: every packet goes back to whoever sent it.
        for (const sprocket::Message& m : server.get()) server.send(m.client, m.packet);

        // The client: get(timeout) waits a little for a packet (a game loop would call get()
        // once per frame instead).
        for (const sprocket::Packet& reply : client.get(10ms)) {
            std::cout << "reply " << reply.get_or("seq", 0) << ": " << reply << '\n';
            ++replies;
        }
    }

    if (replies < count) {
        std::cout << "only " << replies << " of " << count << " replies arrived; client: " << client.status() << '\n';
        return 1;
    }
    std::cout << "all " << count << " packets came back, client id " << client.id() << '\n';
    return 0;
}

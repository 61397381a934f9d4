// demo_chat: a terminal chat room. The server passes each line on to everyone else with the
// sender's name; each client sends what you type and prints what the others say.
//
// Run it, in three terminals:
//   build/bin/demo_chat server [PORT]              (PORT defaults to 4242)
//   build/bin/demo_chat client 127.0.0.1 4242 ann
//   build/bin/demo_chat client 127.0.0.1 4242 bob
// Type a line and press Enter to say it; Ctrl-D leaves; Ctrl-C stops the server.
//
// What it teaches: channels (`Packet::on("chat", ...)`), a server that keeps per-client state
// (names) from `poll()`'s joins, packets and leaves, `sendall_except` to relay, and a client
// whose main loop keeps calling `get()` while it also reads the keyboard: reading stdin never
// blocks the loop (poll(2) with a short timeout paces it; a game would check with timeout 0
// once per frame).

#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <charconv>
#include <cstdint>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <poll.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;

constexpr const char* usage = "usage: demo_chat server [PORT] | demo_chat client HOST PORT NAME";

std::optional<std::uint16_t> parse_port(std::string_view text) {
    std::uint16_t port = 0;
    const auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (text.empty() || error != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    return port;
}

/// Text from the network, made safe to print: control characters become '?', and it is cut
/// at 200 bytes.
std::string printable(std::string text) {
    if (text.size() > 200) text.resize(200);
    for (char& c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return text;
}

// --- the server --------------------------------------------------------------------------------

int run_server(std::uint16_t port) {
    sprocket::Servo server(port);  // listens on 127.0.0.1; ServoOptions::host "0.0.0.0" opens it to the LAN
    std::cout << "chat server on 127.0.0.1:" << server.port() << " (Ctrl-C stops it)" << std::endl;

    std::map<sprocket::ClientId, std::string> names;
    auto name_of = [&](sprocket::ClientId id) {
        const auto it = names.find(id);
        return it != names.end() ? it->second : "client " + std::to_string(id);
    };
    auto notice = [&](sprocket::ClientId except, const std::string& text) {
        std::cout << "* " << text << std::endl;
        server.sendall_except(except, sprocket::Packet::on("notice", {{"text", text}}));
    };

    for (;;) {
        server.wait(1s);  // wakes as soon as something arrives
        // poll(): joins, packets and leaves in the order they happened.
        for (const sprocket::Event& e : server.poll()) {
            switch (e.kind) {
            case sprocket::EventKind::joined:
                std::cout << e << std::endl;  // `joined client 1 (127.0.0.1:50123)`; the name comes next
                break;
            case sprocket::EventKind::left:
                notice(e.client, name_of(e.client) + " left (" + sprocket::to_string(e.reason) + ")");
                names.erase(e.client);
                break;
            case sprocket::EventKind::packet:
                if (e.packet.channel() == "hello") {
                    // try_get never throws: whatever a peer sends cannot crash the server.
                    names[e.client] = printable(
                        e.packet.try_get<std::string>("name").value_or("client " + std::to_string(e.client)));
                    notice(e.client, name_of(e.client) + " joined");
                } else if (e.packet.channel() == "chat") {
                    const std::string text = printable(e.packet.try_get<std::string>("text").value_or(""));
                    std::cout << name_of(e.client) << ": " << text << std::endl;
                    server.sendall_except(e.client,
                                          sprocket::Packet::on("chat", {{"name", name_of(e.client)}, {"text", text}}));
                }
                break;
            default:
                break;
            }
        }
    }
}

// --- the client --------------------------------------------------------------------------------

int run_client(const std::string& host, std::uint16_t port, const std::string& name) {
    sprocket::Sprocket client(host, port);
    client.send(sprocket::Packet::on("hello", {{"name", name}}));  // queued until connected

    // Connection events run these callbacks from inside get(), on this thread.
    bool over = false;
    client.on(sprocket::EventKind::connected, [&](const sprocket::Event& e) {
        std::cout << "connected as client " << e.client << "; type a line and press Enter (Ctrl-D leaves)"
                  << std::endl;
    });
    client.on(sprocket::EventKind::disconnected, [&](const sprocket::Event& e) {
        std::cout << "disconnected: " << e.reason << (e.detail.empty() ? "" : " (" + e.detail + ")") << std::endl;
        over = true;
    });

    std::string typed;  // bytes from stdin not yet ending in a newline
    for (;;) {
        for (const sprocket::Packet& p : client.get()) {
            if (p.channel() == "chat") std::cout << p.get_or("name", "?") << ": " << p.get_or("text", "") << std::endl;
            else if (p.channel() == "notice") std::cout << "* " << p.get_or("text", "") << std::endl;
        }
        if (over) return 1;

        // Keyboard: wait at most 50 ms for input, so the loop goes back to get() promptly.
        pollfd in{STDIN_FILENO, POLLIN, 0};
        if (::poll(&in, 1, 50) <= 0) continue;
        char buffer[512];
        const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (n <= 0) break;  // Ctrl-D (or stdin closed): leave
        typed.append(buffer, static_cast<std::size_t>(n));
        for (std::size_t eol; (eol = typed.find('\n')) != std::string::npos; typed.erase(0, eol + 1)) {
            const std::string line = typed.substr(0, eol);
            if (!line.empty()) client.send(sprocket::Packet::on("chat", {{"text", line}}));
        }
    }
    return 0;  // the destructor says goodbye after what is still queued
}

}  // namespace

int main(int argc, char** argv) {
    const std::string_view mode = argc > 1 ? argv[1] : "";
    try {
        if (mode == "server" && argc <= 3) {
            const auto port = argc == 3 ? parse_port(argv[2]) : std::optional<std::uint16_t>(4242);
            if (port) return run_server(*port);
        } else if (mode == "client" && argc == 5) {
            const auto port = parse_port(argv[3]);
            if (port && argv[4][0] != '\0') return run_client(argv[2], *port, argv[4]);
        }
    } catch (const std::runtime_error& e) {  // e.g. "servo: cannot listen on 127.0.0.1:4242 (address already in use)"
        std::cerr << e.what() << std::endl;
        return 1;
    }
    std::cerr << usage << std::endl;
    return 2;
}

#pragma once
// A hand-driven TCP peer for tests: it speaks sprocket's protocol only as far as a test wants
// (or sends garbage, or falls silent). Every read has a deadline (SocketSelector::wait).
#include "helpers.hpp"

#include <sprocket/detail/control.hpp>
#include <sprocket/detail/socket.hpp>
#include <sprocket/frame.hpp>

#include <SFML/Network.hpp>

#include <optional>
#include <sys/socket.h>

namespace nettest {

struct RawFrame {
    std::uint8_t kind = 0;
    sprocket::Bytes body;
    sprocket::FrameView view() const { return sprocket::FrameView{kind, body.data(), body.size()}; }
};

class RawPeer {
public:
    RawPeer() = default;
    /// Blocking connect to 127.0.0.1:port.
    bool connect(std::uint16_t port) { return setup(socket_.connect(sf::IpAddress::LocalHost, port, sf::seconds(10))); }
    /// Accepts one connection from `listener` (waiting at most `limit`).
    bool accept(sf::TcpListener& listener, std::chrono::milliseconds limit = patience) {
        sf::SocketSelector selector;
        selector.add(listener);
        if (!selector.wait(sf::milliseconds(static_cast<sf::Int32>(limit.count())))) return false;
        return setup(listener.accept(socket_));
    }

    bool send(const sprocket::Bytes& bytes) {
        std::size_t sent = 0;
        return socket_.send(bytes.data(), bytes.size(), sent) == sf::Socket::Done;
    }
    bool hello(const std::string& application = "sprocket", const std::string& password = "",
               std::uint16_t version = sprocket::detail::protocol_version) {
        sprocket::Bytes out;
        sprocket::detail::append_hello(out, {version, application, password});
        return send(out);
    }
    /// Hello, then the welcome: returns the client id (0 on failure).
    sprocket::ClientId join() {
        if (!hello()) return 0;
        const auto frame = next_frame();
        if (!frame || frame->kind != static_cast<std::uint8_t>(sprocket::FrameKind::welcome)) return 0;
        const auto welcome = sprocket::detail::parse_welcome(frame->view());
        return welcome ? welcome->client : 0;
    }
    /// The next frame, skipping heartbeats unless asked; nullopt on close, error or deadline.
    std::optional<RawFrame> next_frame(std::chrono::milliseconds limit = patience, bool heartbeats = false) {
        const auto deadline = Clock::now() + limit;
        for (;;) {
            sprocket::FrameView view;
            while (decoder_.next(view) == sprocket::FrameStatus::ready) {
                const bool beat = view.kind == static_cast<std::uint8_t>(sprocket::FrameKind::ping) ||
                                  view.kind == static_cast<std::uint8_t>(sprocket::FrameKind::pong);
                if (heartbeats || !beat) return RawFrame{view.kind, sprocket::Bytes(view.body, view.body + view.size)};
            }
            if (!read_some(deadline)) return std::nullopt;
        }
    }
    /// Reads and discards until the peer closes; false if it has not by the deadline.
    bool wait_closed(std::chrono::milliseconds limit = patience) {
        const auto deadline = Clock::now() + limit;
        while (read_some(deadline)) {
        }
        return closed_;
    }
    bool closed() const { return closed_; }
    sf::TcpSocket& socket() { return socket_; }
    /// The native descriptor (for setsockopt/shutdown); -1 before `connect`.
    int fd() const { return static_cast<int>(socket_.getHandle()); }
    /// Closes with a reset (RST) instead of a FIN: SO_LINGER with a zero timeout.
    void reset() {
        const linger abort{1, 0};
        ::setsockopt(static_cast<int>(socket_.getHandle()), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
        socket_.disconnect();
        closed_ = true;
    }

private:
    bool setup(sf::Socket::Status status) {
        if (status != sf::Socket::Done) return false;
        selector_.add(socket_);
        return true;
    }
    // Waits for bytes until the deadline; false on close or timeout.
    bool read_some(Clock::time_point deadline) {
        if (closed_) return false;
        const auto now = Clock::now();
        if (now >= deadline) return false;
        const auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
        if (!selector_.wait(sf::milliseconds(static_cast<sf::Int32>(ms)))) return false;
        std::uint8_t buffer[65536];
        std::size_t got = 0;
        const auto status = socket_.receive(buffer, sizeof buffer, got);
        if (status != sf::Socket::Done) {
            closed_ = true;
            return false;
        }
        decoder_.feed(buffer, got);
        return true;
    }

    sprocket::detail::TcpStream socket_;  // an sf::TcpSocket whose descriptor is reachable
    sf::SocketSelector selector_;
    sprocket::FrameDecoder decoder_;
    bool closed_ = false;
};

/// A listener on 127.0.0.1, port chosen by the OS.
struct RawListener {
    sf::TcpListener listener;
    RawListener() { REQUIRE(listener.listen(0, sf::IpAddress::LocalHost) == sf::Socket::Done); }
    std::uint16_t port() const { return listener.getLocalPort(); }
};

/// Plays a server: accepts a Sprocket on `listener`, reads its hello, welcomes it as `id`,
/// saying it accepts packets of up to `max_frame` bytes.
inline void welcome(RawPeer& peer, RawListener& listener, sprocket::ClientId id = 7,
                    std::uint32_t max_frame = std::uint32_t{64} << 20) {
    REQUIRE(peer.accept(listener.listener));
    const auto hello = peer.next_frame();
    REQUIRE(hello);
    REQUIRE(hello->kind == static_cast<std::uint8_t>(sprocket::FrameKind::hello));
    sprocket::Bytes out;
    sprocket::detail::append_welcome(out, {id, sprocket::detail::protocol_version, max_frame});
    REQUIRE(peer.send(out));
}

/// A port with nothing listening on it (the OS picked it, then it was closed again).
inline std::uint16_t closed_port() {
    RawListener taken;
    return taken.port();
}

}  // namespace nettest

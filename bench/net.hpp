#pragma once
// The baselines' plumbing: raw POSIX TCP (TCP_NODELAY, a 4-byte length before each message) and
// ENet (only when libenet was found: SPROCKET_BENCH_ENET). Loopback only.

#include "common.hpp"

#include <SFML/Network/IpAddress.hpp>
#include <SFML/Network/TcpListener.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef SPROCKET_BENCH_ENET
#include <enet/enet.h>
#endif

namespace bench {

// --- raw TCP ------------------------------------------------------------------------------------

inline void set_nodelay(int fd) {
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

inline void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL, 0) | O_NONBLOCK); }

inline sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/// A listening socket on 127.0.0.1 and an OS-chosen port (written to `port`); -1 on failure.
inline int tcp_listen(std::uint16_t& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in a = loopback(0);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4096) != 0) {
        ::close(fd);
        return -1;
    }
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    return fd;
}

/// A listening socket on 127.0.0.1 whose port is reported to the parent ("port N").
inline int tcp_listen_reported() {
    std::uint16_t port = 0;
    const int listener = tcp_listen(port);
    check(listener >= 0, "raw TCP: cannot listen");
    report("port", port);
    return listener;
}

/// The same with SFML: `listener` listens on 127.0.0.1, its port reported to the parent.
inline void sf_listen_reported(sf::TcpListener& listener) {
    check(listener.listen(sf::Socket::AnyPort, sf::IpAddress("127.0.0.1")) == sf::Socket::Done, "sf: cannot listen");
    report("port", listener.getLocalPort());
}

/// Listens (reporting the port, as above) and accepts one connection into `socket`.
inline void sf_accept_reported(sf::TcpListener& listener, sf::TcpSocket& socket) {
    sf_listen_reported(listener);
    check(listener.accept(socket) == sf::Socket::Done, "sf: accept failed");
}

inline int tcp_accept(int listener) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) set_nodelay(fd);
    return fd;
}

/// A blocking connection to 127.0.0.1:port with TCP_NODELAY; -1 on failure.
inline int tcp_connect(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in a = loopback(port);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    set_nodelay(fd);
    return fd;
}

inline bool write_all(int fd, const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    while (size > 0) {
        const ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

inline bool read_all(int fd, void* data, std::size_t size) {
    auto* p = static_cast<std::uint8_t*>(data);
    while (size > 0) {
        const ssize_t n = ::recv(fd, p, size, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

/// Appends one message (4-byte length, then the body) to `out`.
inline void append_message(std::vector<std::uint8_t>& out, const void* body, std::uint32_t size) {
    const std::size_t at = out.size();
    out.resize(at + 4 + size);
    std::memcpy(out.data() + at, &size, 4);
    std::memcpy(out.data() + at + 4, body, size);
}

/// Splits a TCP stream into length-prefixed messages; reads in 64 KiB chunks.
class MessageReader {
public:
    /// Reads what the socket has (blocking or not, as the socket is). Returns the bytes read:
    /// 0 when the peer closed, -1 when nothing was there (EAGAIN) or on an error.
    ssize_t fill(int fd) {
        if (begin_ > 0 && begin_ == end_) begin_ = end_ = 0;
        if (buffer_.size() - end_ < chunk) {
            std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
            if (buffer_.size() - end_ < chunk) buffer_.resize(end_ + chunk);
        }
        ssize_t n;
        do {
            n = ::recv(fd, buffer_.data() + end_, buffer_.size() - end_, 0);
        } while (n < 0 && errno == EINTR);
        if (n > 0) end_ += static_cast<std::size_t>(n);
        return n;
    }
    /// The next complete message (valid until the next fill), or false.
    bool next(const std::uint8_t*& body, std::uint32_t& size) {
        if (end_ - begin_ < 4) return false;
        std::memcpy(&size, buffer_.data() + begin_, 4);
        if (end_ - begin_ - 4 < size) {
            if (buffer_.size() < 4 + std::size_t{size}) {  // a big message: make room for it
                std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
                end_ -= begin_;
                begin_ = 0;
                buffer_.resize(4 + std::size_t{size} + chunk);
            }
            return false;
        }
        body = buffer_.data() + begin_ + 4;
        begin_ += 4 + std::size_t{size};
        return true;
    }
    /// Blocks until a whole message is there. False when the peer closed or on an error.
    bool receive(int fd, const std::uint8_t*& body, std::uint32_t& size) {
        while (!next(body, size))
            if (fill(fd) <= 0) return false;
        return true;
    }

private:
    static constexpr std::size_t chunk = std::size_t{64} << 10;
    std::vector<std::uint8_t> buffer_ = std::vector<std::uint8_t>(chunk);
    std::size_t begin_ = 0, end_ = 0;
};

// --- ENet ---------------------------------------------------------------------------------------

#ifdef SPROCKET_BENCH_ENET
inline constexpr bool have_enet = true;

/// enet_initialize / enet_deinitialize for the life of a role.
struct EnetLibrary {
    EnetLibrary() { enet_initialize(); }
    ~EnetLibrary() { enet_deinitialize(); }
    EnetLibrary(const EnetLibrary&) = delete;
    EnetLibrary& operator=(const EnetLibrary&) = delete;
};

/// A server host on 127.0.0.1 and an OS-chosen port, reported to the parent ("port N").
inline ENetHost* enet_listen_reported(std::size_t peers) {
    ENetAddress address{};
    enet_address_set_host_ip(&address, "127.0.0.1");
    address.port = 0;
    ENetHost* host = enet_host_create(&address, peers, 2, 0, 0);
    check(host != nullptr, "enet_host_create failed");
    ENetAddress bound{};
    enet_socket_get_address(host->socket, &bound);
    report("port", bound.port);
    return host;
}

/// A client host with one peer connecting to 127.0.0.1:port (no waiting).
inline ENetHost* enet_client(std::uint16_t port, ENetPeer*& peer) {
    ENetHost* host = enet_host_create(nullptr, 1, 2, 0, 0);
    if (!host) return nullptr;
    ENetAddress address{};
    enet_address_set_host_ip(&address, "127.0.0.1");
    address.port = port;
    peer = enet_host_connect(host, &address, 2, 0);
    return host;
}

/// Services `host` until its peer is connected, at most `timeout_ms`.
inline bool enet_wait_connected(ENetHost* host, int timeout_ms) {
    ENetEvent event;
    const std::int64_t deadline = now_ns() + std::int64_t{timeout_ms} * 1'000'000;
    while (now_ns() < deadline) {
        if (enet_host_service(host, &event, 10) > 0 && event.type == ENET_EVENT_TYPE_CONNECT) return true;
    }
    return false;
}

/// A reliable ENet packet holding a copy of `size` bytes.
inline ENetPacket* reliable(const void* data, std::size_t size) {
    return enet_packet_create(data, size, ENET_PACKET_FLAG_RELIABLE);
}
#else
inline constexpr bool have_enet = false;
#endif

}  // namespace bench

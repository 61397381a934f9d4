#pragma once
/// \file
/// SFML's TCP socket and listener with their native descriptor visible, so the I/O thread can
/// poll them, plus the few POSIX calls SFML does not offer.

#include <SFML/Network/TcpListener.hpp>
#include <SFML/Network/TcpSocket.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sprocket::detail {

class TcpStream : public sf::TcpSocket {
public:
    using sf::TcpSocket::getHandle;
    /// Starts a non-blocking connect (SFML's own `connect` would lose errno when no descriptor
    /// is left). `Done`: connected already; `NotReady`: in progress (wait for writable);
    /// `Error`: failed, with errno's value in `error`.
    sf::Socket::Status connect_nonblocking(const sf::IpAddress& address, std::uint16_t port, int& error);

private:
    friend class TcpAcceptor;
    void own(int descriptor);  // SFML owns it from here: its blocking mode, TCP_NODELAY
};

class TcpAcceptor : public sf::TcpListener {
public:
    using sf::TcpListener::getHandle;
    /// Like `listen`, but with SO_REUSEADDR (SFML 2.5 does not set it), so a restarted server
    /// can listen on its port again while old connections linger in TIME_WAIT.
    /// False on failure, with errno's value in `error`.
    bool open(std::uint16_t port, const sf::IpAddress& address, int& error);
    /// Like SFML's `accept`, but the new socket is close-on-exec, as every other socket of
    /// sprocket: a process the game starts must not hold its players' connections open.
    /// `Done`, `NotReady` (nothing pending), or `Error` (e.g. no descriptor left).
    sf::Socket::Status accept_stream(TcpStream& stream);
};

/// The pending error of a socket (SO_ERROR): 0 once a non-blocking connect has succeeded.
int take_socket_error(int descriptor);
/// Bytes received and not read yet (FIONREAD); 0 on error.
std::size_t pending_input(int descriptor);
/// Sends FIN after the queued bytes (shutdown(SHUT_WR)); reading stays possible.
void shutdown_write(int descriptor);
/// Writes what the socket takes now without blocking (MSG_DONTWAIT, no SIGPIPE): the bytes
/// written, 0 when none (full, or an error the I/O thread will find on its own).
std::size_t send_now(int descriptor, const std::uint8_t* data, std::size_t size);
/// Makes epoll(7) report the socket writable only while fewer than `bytes` written bytes are
/// still unsent in the kernel (TCP_NOTSENT_LOWAT), so a big write cannot queue far ahead of a
/// small one written after it. Best effort: ignored where unsupported.
void limit_unsent(int descriptor, int bytes);
/// errno's text: "connection refused".
std::string error_text(int error);
/// The thread's last errno.
int last_error();

}  // namespace sprocket::detail

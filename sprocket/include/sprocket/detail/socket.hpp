#pragma once
/// \file
/// SFML's TCP socket and listener with their native descriptor visible, so the I/O thread can
/// poll them, plus the few POSIX calls SFML does not offer.

#include <SFML/Network/TcpListener.hpp>
#include <SFML/Network/TcpSocket.hpp>

#include <string>

namespace sprocket::detail {

class TcpStream : public sf::TcpSocket {
public:
    using sf::TcpSocket::getHandle;
};

class TcpAcceptor : public sf::TcpListener {
public:
    using sf::TcpListener::getHandle;
};

/// The pending error of a socket (SO_ERROR): 0 once a non-blocking connect has succeeded.
int take_socket_error(int descriptor);
/// Sends FIN after the queued bytes (shutdown(SHUT_WR)); reading stays possible.
void shutdown_write(int descriptor);
/// errno's text: "connection refused".
std::string error_text(int error);
/// The thread's last errno.
int last_error();

}  // namespace sprocket::detail

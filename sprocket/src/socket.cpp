// POSIX calls that SFML 2.5 does not wrap.
#include <sprocket/detail/socket.hpp>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sprocket::detail {

namespace {

sockaddr_in ipv4(const sf::IpAddress& address, std::uint16_t port) {
    sockaddr_in where{};
    where.sin_family = AF_INET;
    where.sin_port = htons(port);
    where.sin_addr.s_addr = htonl(address.toInteger());
    return where;
}

}  // namespace

sf::Socket::Status TcpStream::connect_nonblocking(const sf::IpAddress& address, std::uint16_t port, int& error) {
    disconnect();
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = errno;
        return sf::Socket::Error;
    }
    setBlocking(false);
    own(fd);
    const sockaddr_in where = ipv4(address, port);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&where), sizeof where) == 0) return sf::Socket::Done;
    error = errno;
    return error == EINPROGRESS ? sf::Socket::NotReady : sf::Socket::Error;
}

void TcpStream::own(int descriptor) {
    disconnect();
    create(static_cast<sf::SocketHandle>(descriptor));
}

sf::Socket::Status TcpAcceptor::accept_stream(TcpStream& stream) {
    int fd;
    do {
        fd = ::accept4(static_cast<int>(getHandle()), nullptr, nullptr, SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? sf::Socket::NotReady : sf::Socket::Error;
    stream.own(fd);
    return sf::Socket::Done;
}

bool TcpAcceptor::open(std::uint16_t port, const sf::IpAddress& address, int& error) {
    close();
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = errno;
        return false;
    }
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    const sockaddr_in where = ipv4(address, port);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&where), sizeof where) != 0 || ::listen(fd, SOMAXCONN) != 0) {
        error = errno;
        ::close(fd);
        return false;
    }
    create(static_cast<sf::SocketHandle>(fd));  // SFML owns it from here (and applies blocking mode)
    return true;
}

int take_socket_error(int descriptor) {
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return errno;
    return error;
}

std::size_t pending_input(int descriptor) {
    int n = 0;
    if (::ioctl(descriptor, FIONREAD, &n) != 0 || n < 0) return 0;
    return static_cast<std::size_t>(n);
}

void shutdown_write(int descriptor) { ::shutdown(descriptor, SHUT_WR); }

void limit_unsent(int descriptor, int bytes) {
    ::setsockopt(descriptor, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &bytes, sizeof bytes);
}

std::size_t send_now(int descriptor, const std::uint8_t* data, std::size_t size) {
    ssize_t n;
    do {
        n = ::send(descriptor, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
}

std::string error_text(int error) {
    std::string text = std::strerror(error);
    if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    return text;
}

int last_error() { return errno; }

}  // namespace sprocket::detail

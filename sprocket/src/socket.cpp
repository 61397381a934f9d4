// POSIX calls that SFML 2.5 does not wrap.
#include <sprocket/detail/socket.hpp>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>

namespace sprocket::detail {

int take_socket_error(int descriptor) {
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return errno;
    return error;
}

void shutdown_write(int descriptor) { ::shutdown(descriptor, SHUT_WR); }

std::string error_text(int error) {
    std::string text = std::strerror(error);
    if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    return text;
}

int last_error() { return errno; }

}  // namespace sprocket::detail

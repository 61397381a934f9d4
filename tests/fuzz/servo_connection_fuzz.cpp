// Fuzzes a whole Servo connection in-process: each input is one TCP client on 127.0.0.1 whose
// bytes are the input (after a valid hello when the first byte is odd, so the fuzzer reaches
// packet frames, heartbeats and goodbyes as well as the handshake). The server must close or
// keep the connection without crashing, keep its memory accounting bounded, and still answer.
#include <sprocket/detail/control.hpp>
#include <sprocket/servo.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;

sprocket::Servo& server() {
    static sprocket::Servo servo = [] {
        sprocket::ServoOptions options;
        options.heartbeat_interval = 100ms;
        options.timeout = 300ms;
        options.handshake_timeout = 300ms;
        options.linger = 50ms;
        options.max_frame_size = 64 << 10;
        options.max_receive_queue = 256 << 10;
        return sprocket::Servo(0, options);
    }();
    return servo;
}

// Waits up to 10 s for `events` on `fd`, through interruptions. False on timeout.
bool wait_for(int fd, short events) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left));
        if (n == 1) return true;
        if (n < 0 && errno != EINTR) std::abort();
    }
}

int socket_error(int fd) {
    int error = 0;
    socklen_t len = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    return error;
}

// Sends everything (blocking), then half-closes and reads until the server closes.
void talk(const std::uint8_t* data, std::size_t size) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) std::abort();
    // We close first (to end the input), so each connection leaves a port in TIME_WAIT for a
    // minute: spread the sources over 127.0.0.2-201 so thousands of runs a second never run out.
    static std::uint32_t runs = 0;
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + (runs++ % 200));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) std::abort();
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server().port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // libFuzzer's -timeout runs a SIGALRM timer: every call here may be interrupted (EINTR).
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        if (errno != EINTR || !wait_for(fd, POLLOUT) || socket_error(fd) != 0) {
            std::perror("fuzz_servo_connection: connect");  // the harness's problem, not sprocket's
            std::abort();
        }
    }
    std::size_t sent = 0;
    while (sent < size) {
        const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // the server closed it already: fine
        sent += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    std::uint8_t sink[4096];
    for (;;) {
        if (!wait_for(fd, POLLIN)) {  // the server must end it well within its timeouts
            const auto stats = server().stats();
            std::fprintf(stderr, "fuzz_servo_connection: the server kept the connection open: %zu clients, %zu pending, %zu bytes buffered\n",
                         stats.clients, stats.pending, stats.buffered);
            std::abort();
        }
        const ssize_t n = ::recv(fd, sink, sizeof sink, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
    }
    ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    sprocket::Bytes input;
    if (data[0] & 1) sprocket::detail::append_hello(input, {sprocket::detail::protocol_version, "sprocket", ""});
    input.insert(input.end(), data + 1, data + size);
    talk(input.data(), input.size());

    // Drain what the connection produced, and check the server's own accounting.
    sprocket::Servo& s = server();
    (void)s.poll();
    (void)s.refused();
    const auto stats = s.stats();
    if (stats.clients > 1 || stats.pending > 1) std::abort();  // one connection at a time here
    if (stats.buffered > (2u << 20)) std::abort();
    return 0;
}

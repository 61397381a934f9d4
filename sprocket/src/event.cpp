#include <sprocket/event.hpp>
#include <sprocket/sprocket.hpp>

#include <ostream>
#include <sstream>

namespace sprocket {

const char* to_string(CloseReason reason) noexcept {
    switch (reason) {
    case CloseReason::none: return "open";
    case CloseReason::closed: return "closed";
    case CloseReason::closed_by_peer: return "closed by peer";
    case CloseReason::timeout: return "timeout";
    case CloseReason::rejected: return "rejected";
    case CloseReason::protocol_error: return "protocol error";
    case CloseReason::queue_overflow: return "send queue overflow";
    case CloseReason::kicked: return "kicked";
    case CloseReason::server_shutdown: return "server shutdown";
    case CloseReason::connect_failed: return "connect failed";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, CloseReason reason) { return os << to_string(reason); }

const char* to_string(EventKind kind) noexcept {
    switch (kind) {
    case EventKind::packet: return "packet";
    case EventKind::connected: return "connected";
    case EventKind::disconnected: return "disconnected";
    case EventKind::reconnecting: return "reconnecting";
    case EventKind::joined: return "joined";
    case EventKind::left: return "left";
    case EventKind::stalled: return "stalled";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, EventKind kind) { return os << to_string(kind); }

std::ostream& operator<<(std::ostream& os, const Event& event) {
    os << event.kind;
    if (event.client != 0) os << (event.kind == EventKind::packet ? " from client " : " client ") << event.client;
    if (event.kind == EventKind::packet) os << ": " << event.packet;
    if (event.reason != CloseReason::none) os << ": " << event.reason;
    if (event.kind == EventKind::reconnecting) {
        os << " (" << event.detail << (event.detail.empty() ? "" : "; ") << "attempt " << event.attempt << " in "
           << event.retry_in.count() << " ms)";
    } else if (!event.detail.empty()) {
        os << " (" << event.detail << ')';
    }
    return os;
}

std::string to_string(const Event& event) {
    std::ostringstream os;
    os << event;
    return os.str();
}

const char* to_string(State state) noexcept {
    switch (state) {
    case State::connecting: return "connecting";
    case State::connected: return "connected";
    case State::disconnected: return "disconnected";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& os, State state) { return os << to_string(state); }

std::ostream& operator<<(std::ostream& os, const Status& status) {
    os << status.state;
    if (status.reason != CloseReason::none) os << ": " << status.reason;
    if (!status.detail.empty()) os << " (" << status.detail << ')';
    if (!status.stalled.empty()) os << "; stalled: " << status.stalled;
    return os;
}

}  // namespace sprocket

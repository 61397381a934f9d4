#pragma once
// Test helpers for real sockets on 127.0.0.1: every wait has a deadline and wakes on events
// (an endpoint's wait() blocks on its inbox), never on a fixed sleep.
#include <sprocket/servo.hpp>
#include <sprocket/sprocket.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <thread>
#include <type_traits>
#include <vector>

namespace nettest {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// Generous: a noisy 2-core machine running sanitizers must never hit it when things work.
inline constexpr std::chrono::milliseconds patience = 10s;

/// Options for tests: heartbeats every 50 ms (RTT shows up fast); timeouts with slack for a
/// noisy machine. Tests that exercise a timeout set their own, shorter one.
template <class Options>
Options quick() {
    Options o;
    o.heartbeat_interval = 50ms;
    o.timeout = 5s;
    o.handshake_timeout = 5s;
    return o;
}
inline sprocket::SprocketOptions quick_client() { return quick<sprocket::SprocketOptions>(); }
inline sprocket::ServoOptions quick_server() { return quick<sprocket::ServoOptions>(); }

/// Drains `endpoint`'s events into `seen` until `done(seen)` holds or the deadline passes.
template <class Endpoint>
bool pump_until(Endpoint& endpoint, std::vector<sprocket::Event>& seen,
                const std::function<bool(const std::vector<sprocket::Event>&)>& done,
                std::chrono::milliseconds limit = patience) {
    const auto deadline = Clock::now() + limit;
    for (;;) {
        for (auto& e : endpoint.poll()) seen.push_back(std::move(e));
        if (done(seen)) return true;
        const auto now = Clock::now();
        if (now >= deadline) return false;
        endpoint.wait(std::chrono::ceil<std::chrono::milliseconds>(deadline - now));
    }
}

/// For pump_until: true once the newest event seen is of `kind`.
inline auto last_is(sprocket::EventKind kind) {
    return [kind](const std::vector<sprocket::Event>& seen) { return !seen.empty() && seen.back().kind == kind; };
}

/// Drains events until one of `kind` arrives; returns it (kind `packet` with an empty packet
/// and a detail of "none" when the deadline passed). Events before it are dropped.
template <class Endpoint>
sprocket::Event next_event(Endpoint& endpoint, sprocket::EventKind kind, std::chrono::milliseconds limit = patience) {
    std::vector<sprocket::Event> seen;
    const bool found = pump_until(endpoint, seen, [&](const auto& s) {
        for (const auto& e : s) if (e.kind == kind) return true;
        return false;
    }, limit);
    if (found) {
        for (auto& e : seen) if (e.kind == kind) return e;
    }
    sprocket::Event none;
    none.detail = "none";
    return none;
}

/// Waits (in the endpoint's own get(timeout), 20 ms at a time) until `done()` holds; packets that
/// arrive meanwhile are dropped. For conditions no event announces, like an RTT or a rate.
template <class Endpoint, class Done>
bool until(Endpoint& endpoint, Done&& done, std::chrono::milliseconds limit = patience) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
        if (Clock::now() >= deadline) return false;
        endpoint.get(std::chrono::milliseconds(20));
    }
    return true;
}

/// Waits until `done()` holds, looking every millisecond, or the deadline passes. For
/// conditions no event announces and that taking packets would change (a pause, a status).
template <class Done>
bool poll_until(Done&& done, std::chrono::milliseconds limit = patience) {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(1ms);  // no event announces a stat or a status: look again, until the deadline
    }
    return true;
}

/// Waits until the client is connected (draining its events).
inline bool connect(sprocket::Sprocket& client) {
    std::vector<sprocket::Event> seen;
    return pump_until(client, seen, [&](const auto&) { return client.connected(); });
}

/// Waits until the server lists `n` clients (draining its events into `seen`, if given).
inline bool until_clients(sprocket::Servo& server, std::size_t n, std::vector<sprocket::Event>* seen = nullptr) {
    std::vector<sprocket::Event> local;
    return pump_until(server, seen ? *seen : local, [&](const auto&) { return server.clients().size() == n; });
}

/// Collects at least `n` packets (Sprocket) or messages (Servo) within `limit`; fewer when
/// the deadline passes or a client is disconnected for good.
template <class Endpoint>
auto receive(Endpoint& endpoint, std::size_t n, std::chrono::milliseconds limit = patience) {
    decltype(endpoint.get()) got;
    const auto deadline = Clock::now() + limit;
    while (got.size() < n) {
        const auto now = Clock::now();
        if (now >= deadline) break;
        for (auto& m : endpoint.get(std::chrono::ceil<std::chrono::milliseconds>(deadline - now))) got.push_back(std::move(m));
        if constexpr (std::is_same_v<Endpoint, sprocket::Sprocket>) {
            if (endpoint.status().state == sprocket::State::disconnected) {
                for (auto& m : endpoint.get()) got.push_back(std::move(m));
                break;
            }
        }
    }
    return got;
}

}  // namespace nettest

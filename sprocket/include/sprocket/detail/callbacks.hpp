#pragma once
/// \file
/// The optional per-kind event callbacks of an endpoint. They run on the thread that drains
/// the events (get()/poll()), never on the I/O thread, and never under a lock of sprocket's.

#include <sprocket/event.hpp>

#include <array>
#include <functional>
#include <initializer_list>
#include <mutex>

namespace sprocket::detail {

class Callbacks {
public:
    using Callback = std::function<void(const Event&)>;

    /// `allowed`: the kinds this endpoint reports. Throws std::invalid_argument for others,
    /// naming `endpoint` ("Sprocket", "Servo") in the message.
    void set(EventKind kind, Callback callback, std::initializer_list<EventKind> allowed, const char* endpoint);
    /// Runs the callback registered for `event.kind`, if any.
    void dispatch(const Event& event) const;

private:
    mutable std::mutex mutex_;
    std::array<Callback, event_kind_count> callbacks_;  // by EventKind
};

}  // namespace sprocket::detail

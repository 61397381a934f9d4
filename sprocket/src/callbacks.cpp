#include <sprocket/detail/callbacks.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace sprocket::detail {

void Callbacks::set(EventKind kind, Callback callback, std::initializer_list<EventKind> allowed,
                    const char* endpoint) {
    if (std::find(allowed.begin(), allowed.end(), kind) == allowed.end()) {
        throw std::invalid_argument(std::string("sprocket: a ") + endpoint + " has no callback for '" +
                                    to_string(kind) + "' events");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    callbacks_.at(static_cast<std::size_t>(kind)) = std::move(callback);
}

void Callbacks::dispatch(const Event& event) const {
    Callback callback;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        callback = callbacks_.at(static_cast<std::size_t>(event.kind));
    }
    if (callback) callback(event);
}

}  // namespace sprocket::detail

#include <sprocket/detail/channel_counters.hpp>

#include <algorithm>

namespace sprocket::detail {

ChannelStats& ChannelCounters::slot(std::string_view channel) {
    auto named = [](std::string_view name) { return [name](const ChannelStats& c) { return c.channel == name; }; };
    auto it = std::find_if(channels_.begin(), channels_.end(), named(channel));
    if (it != channels_.end()) return *it;
    if (channels_.size() >= max_channels) {
        it = std::find_if(channels_.begin(), channels_.end(), named("*"));
        if (it != channels_.end()) return *it;
        channel = "*";
    }
    ChannelStats fresh;
    fresh.channel = std::string(channel);
    return channels_.emplace_back(std::move(fresh));
}

void ChannelCounters::sent(std::string_view channel, std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    ChannelStats& c = slot(channel);
    ++c.packets_sent;
    c.bytes_sent += bytes;
}

void ChannelCounters::received(std::string_view channel, std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    ChannelStats& c = slot(channel);
    ++c.packets_received;
    c.bytes_received += bytes;
}

std::vector<ChannelStats> ChannelCounters::snapshot() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return channels_;
}

}  // namespace sprocket::detail

#pragma once
/// \file
/// A connection's packets and bytes per channel, counted by the game's thread (sent) and the
/// I/O thread (received). At most `max_channels` names are kept; later ones count as `"*"`.

#include <sprocket/stats.hpp>

#include <mutex>
#include <string_view>
#include <vector>

namespace sprocket::detail {

class ChannelCounters {
public:
    static constexpr std::size_t max_channels = 32;

    void sent(std::string_view channel, std::size_t bytes);
    void received(std::string_view channel, std::size_t bytes);
    std::vector<ChannelStats> snapshot() const;

private:
    ChannelStats& slot(std::string_view channel);  // mutex_ held

    mutable std::mutex mutex_;
    std::vector<ChannelStats> channels_;
};

}  // namespace sprocket::detail

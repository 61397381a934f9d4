#pragma once
/// \file
/// A connection's packets and bytes per channel, counted by the game's thread (sent) and the
/// I/O thread (received). At most `max_channels` names are kept; later ones count as `"*"`.
/// Counting a packet of a channel seen before takes no lock: a walk of the names (usually one
/// or two) and two atomic additions.

#include <sprocket/stats.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sprocket::detail {

class ChannelCounters {
public:
    static constexpr std::size_t max_channels = 32;

    void sent(std::string_view channel, std::size_t bytes);
    void received(std::string_view channel, std::size_t bytes);
    /// In the order the channels were first counted. Any thread.
    std::vector<ChannelStats> snapshot() const;

private:
    struct Slot {
        explicit Slot(std::string_view channel) : name(channel) {}
        const std::string name;
        std::atomic<std::uint64_t> packets_sent{0}, bytes_sent{0}, packets_received{0}, bytes_received{0};
        std::unique_ptr<Slot> owned_next;  // written once, under adding_, before `next`
        std::atomic<Slot*> next{nullptr};
    };
    Slot& slot(std::string_view channel);

    std::mutex adding_;  // one thread adds a name at a time
    std::unique_ptr<Slot> owned_first_;  // guarded by adding_ (read through first_)
    std::atomic<Slot*> first_{nullptr};
    std::size_t count_ = 0;  // guarded by adding_
};

}  // namespace sprocket::detail

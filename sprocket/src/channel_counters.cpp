#include <sprocket/detail/channel_counters.hpp>

namespace sprocket::detail {

ChannelCounters::Slot& ChannelCounters::slot(std::string_view channel) {
    // Names are only ever added, at the end, each published whole (release/acquire).
    for (Slot* s = first_.load(std::memory_order_acquire); s; s = s->next.load(std::memory_order_acquire))
        if (s->name == channel) return *s;
    std::lock_guard<std::mutex> lock(adding_);
    if (count_ >= max_channels) channel = "*";
    Slot* last = nullptr;
    for (Slot* s = first_.load(std::memory_order_acquire); s; s = s->next.load(std::memory_order_acquire)) {
        if (s->name == channel) return *s;  // added meanwhile by the other thread, or "*"
        last = s;
    }
    auto fresh = std::make_unique<Slot>(channel);
    Slot* added = fresh.get();
    if (last) {
        last->owned_next = std::move(fresh);
        last->next.store(added, std::memory_order_release);
    } else {
        owned_first_ = std::move(fresh);
        first_.store(added, std::memory_order_release);
    }
    ++count_;
    return *added;
}

void ChannelCounters::sent(std::string_view channel, std::size_t bytes) {
    Slot& s = slot(channel);
    s.packets_sent.fetch_add(1, std::memory_order_relaxed);
    s.bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
}

void ChannelCounters::received(std::string_view channel, std::size_t bytes) {
    Slot& s = slot(channel);
    s.packets_received.fetch_add(1, std::memory_order_relaxed);
    s.bytes_received.fetch_add(bytes, std::memory_order_relaxed);
}

std::vector<ChannelStats> ChannelCounters::snapshot() const {
    std::vector<ChannelStats> out;
    for (const Slot* s = first_.load(std::memory_order_acquire); s; s = s->next.load(std::memory_order_acquire)) {
        ChannelStats c;
        c.channel = s->name;
        c.packets_sent = s->packets_sent.load(std::memory_order_relaxed);
        c.packets_received = s->packets_received.load(std::memory_order_relaxed);
        c.bytes_sent = s->bytes_sent.load(std::memory_order_relaxed);
        c.bytes_received = s->bytes_received.load(std::memory_order_relaxed);
        out.push_back(std::move(c));
    }
    return out;
}

}  // namespace sprocket::detail

#include <sprocket/detail/delay_line.hpp>

#include <algorithm>

namespace sprocket::detail {
namespace {

using Micros = std::chrono::microseconds;

// With a bandwidth cap, bytes leave in pieces of about 20 ms of the link's time, so they trickle
// out as on a slow link instead of arriving in one lump when the last byte would have.
std::size_t piece_size(std::size_t bandwidth) {
    if (bandwidth == 0) return SIZE_MAX;
    return std::clamp<std::size_t>(bandwidth / 50, 256, std::size_t{64} << 10);
}

}  // namespace

DelayLine::DelayLine(const Simulation& sim, TimePoint origin, std::uint32_t seed)
    : sim_(sim), origin_(origin), random_(seed == 0 ? 1 : seed) {}

TimePoint DelayLine::schedule(TimePoint now, std::size_t size) {
    TimePoint sent = now;
    if (sim_.bandwidth > 0) {
        const auto busy = Micros(static_cast<std::int64_t>(size * 1'000'000 / sim_.bandwidth));
        link_free_ = std::max(link_free_, now) + busy;
        sent = link_free_;
    }
    Micros delay = std::chrono::duration_cast<Micros>(sim_.latency) / 2;
    if (sim_.jitter.count() > 0) {
        const auto most = std::chrono::duration_cast<Micros>(sim_.jitter).count() / 2;
        delay += Micros(std::uniform_int_distribution<std::int64_t>(0, most)(random_));
    }
    TimePoint due = std::max(sent + delay, last_due_);
    if (sim_.stall.count() > 0 && sim_.stall_every > sim_.stall && due > origin_) {
        // Stalls close each period: [k * every - stall, k * every) for k = 1, 2, ...
        const auto every = std::chrono::duration_cast<Micros>(sim_.stall_every);
        const auto into = std::chrono::duration_cast<Micros>(due - origin_) % every;
        const auto stall_starts = every - std::chrono::duration_cast<Micros>(sim_.stall);
        if (into >= stall_starts) due += every - into;
    }
    last_due_ = due;
    return due;
}

void DelayLine::push(TimePoint now, const std::uint8_t* data, std::size_t size) {
    const std::size_t piece = piece_size(sim_.bandwidth);
    for (std::size_t at = 0; at < size; at += piece) {
        const std::size_t n = std::min(piece, size - at);
        chunks_.push_back(Chunk{schedule(now, n), Bytes(data + at, data + at + n)});
        bytes_ += n;
    }
}

std::size_t DelayLine::take_due(TimePoint now, Bytes& out) {
    std::size_t taken = 0;
    while (!chunks_.empty() && chunks_.front().due <= now) {
        const Bytes& bytes = chunks_.front().bytes;
        out.insert(out.end(), bytes.begin(), bytes.end());
        taken += bytes.size();
        chunks_.pop_front();
    }
    bytes_ -= taken;
    return taken;
}

void DelayLine::clear() {
    chunks_.clear();
    bytes_ = 0;
}

}  // namespace sprocket::detail

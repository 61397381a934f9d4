#include <sprocket/detail/outbox.hpp>

#include <sprocket/detail/socket.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace sprocket::detail {

std::string Outbox::too_big_text(std::size_t frame, std::size_t max_frame) {
    return "sprocket: a packet of " + std::to_string(frame - frame_header_size) + " bytes exceeds the peer's max_frame_size " +
           std::to_string(max_frame) + " (what it accepts; the peer's option)";
}

void Outbox::check_oversized(std::size_t frame) const {
    if (frame <= limit_ || oversized_left_ == 0) return;
    throw std::length_error("sprocket: a packet of " + std::to_string(frame) + " bytes exceeds max_send_queue " +
                            std::to_string(limit_) + " while another such packet is still being sent (" +
                            std::to_string(oversized_left_) + " bytes left): one at a time");
}

Outbox::Push Outbox::admit(std::size_t adding) {
    if (!accepting_) return Push::closed;
    // One packet bigger than the limit may be queued at a time (a map download); its bytes not
    // handed to the socket yet do not count, so the small packets around it still fit.
    const std::size_t counted = unsent_ - oversized_left_ + (adding > limit_ ? 0 : adding);
    if (counted > limit_) {
        accepting_ = false;
        overflowed_.store(true);
        return Push::overflow;
    }
    return Push::queued;
}

namespace {
// Pushes closer together than this are a burst: the I/O thread sends them in one write.
constexpr auto burst_gap = std::chrono::microseconds(5);
}  // namespace

bool Outbox::to_bulk(std::size_t added, std::string_view channel) const {
    if (added > std::min(bulk_threshold, max_frame_)) return true;
    return std::any_of(bulk_.begin(), bulk_.end(), [&](const Bulk& b) { return b.channel == channel; });
}

void Outbox::Bulk::copy(std::size_t from, std::size_t n, Bytes& out) const {
    const Bytes& whole = shared ? shared->frame : frame;
    const std::vector<Borrowed>& left_out = shared ? shared->borrowed : borrowed;
    // Walks the whole frame as runs: `frame` up to a borrowed payload, the payload, ...
    const std::size_t to = from + n;
    std::size_t at = 0;  // where the current run starts in the whole frame
    auto run = [&](const std::uint8_t* data, std::size_t length) {
        const std::size_t begin = std::max(at, from);
        const std::size_t end = std::min(at + length, to);
        if (begin < end) out.insert(out.end(), data + (begin - at), data + (end - at));
        at += length;
    };
    std::size_t in_frame = 0;
    for (const Borrowed& b : left_out) {
        if (at >= to) return;
        run(whole.data() + in_frame, b.at - in_frame);
        in_frame = b.at;
        run(b.data, b.size);
    }
    run(whole.data() + in_frame, whole.size() - in_frame);
}

void Outbox::move_to_bulk(std::size_t before, std::string_view channel, std::vector<Borrowed> borrowed, Map values) {
    Bulk bulk{std::string(channel), {}, std::move(borrowed), std::move(values), pending_.size() - before, 0, false, nullptr};
    for (Borrowed& b : bulk.borrowed) {
        b.at -= before;
        bulk.size += b.size;
    }
    if (bulk.size > limit_) {  // admit() let it in as the one oversized packet
        bulk.oversized = true;
        oversized_left_ = bulk.size;
    }
    if (before == 0) {
        bulk.frame.swap(pending_);  // the common case, a big packet on a quiet queue: no copy
    } else {
        bulk.frame.assign(pending_.begin() + static_cast<std::ptrdiff_t>(before), pending_.end());
        pending_.resize(before);
    }
    bulk_.push_back(std::move(bulk));
}

Outbox::Push Outbox::push_packet(const Packet& packet, std::size_t* frame, std::size_t* written,
                                 std::chrono::steady_clock::time_point now) {
    return push(packet, nullptr, frame, written, now);
}

Outbox::Push Outbox::push_packet(Packet&& packet, std::size_t* frame, std::size_t* written) {
    return push(packet, &packet, frame, written);
}

Outbox::Push Outbox::push(const Packet& packet, Packet* movable, std::size_t* frame, std::size_t* written,
                          std::chrono::steady_clock::time_point now) {
    const auto append = [&](std::vector<Borrowed>& borrowed) {
        if (movable) append_packet_frame(pending_, packet, borrowed, borrow_min);
        else append_packet_frame(pending_, packet);
    };
    return push_frame(packet.channel(), append, movable, frame, written, now);
}

Outbox::Push Outbox::push_literal(std::initializer_list<Map::Field> fields, std::size_t* frame, std::size_t* written,
                                  std::chrono::steady_clock::time_point now) {
    const auto append = [&](std::vector<Borrowed>&) { append_packet_frame(pending_, fields); };
    return push_frame("", append, nullptr, frame, written, now);
}

template <class Append>
Outbox::Push Outbox::push_frame(std::string_view channel, const Append& append, Packet* movable, std::size_t* frame,
                                std::size_t* written, std::chrono::steady_clock::time_point now) {
    std::lock_guard<std::mutex> lock(mutex_);
    Push result = admit(0);
    if (result != Push::queued) return result;
    const std::size_t before = pending_.size();
    std::vector<Borrowed> borrowed;
    append(borrowed);
    std::size_t added = pending_.size() - before;
    for (const Borrowed& b : borrowed) added += b.size;
    if (added - frame_header_size > max_frame_) {
        pending_.resize(before);
        if (frame) *frame = added;
        return Push::too_big;
    }
    if (added > limit_ && oversized_left_ > 0) {
        pending_.resize(before);
        check_oversized(added);  // throws
    }
    result = admit(added);
    if (result != Push::queued) {
        pending_.resize(before);
        return result;
    }
    if (frame) *frame = added;
    if (!borrowed.empty() || added > limit_ || to_bulk(added, channel)) {
        // With borrowed payloads, the values that hold them come along (the map's storage
        // moves with it, so their bytes stay where they are).
        Map values = borrowed.empty() ? Map() : std::move(static_cast<Map&>(*movable));
        move_to_bulk(before, channel, std::move(borrowed), std::move(values));
        unsent_ += added;
        has_data_.store(true);
        end_full_hold();
        return result;
    }
    // A reply (the first push since packets arrived) starts no burst: a ping-pong is no stream.
    const bool reply = heard_.load(std::memory_order_relaxed) && heard_.exchange(false, std::memory_order_relaxed);
    // Whether a push is part of a burst matters to the first one since the last take alone: a
    // later one joins a queue already there (no direct write, and take() sees a stream). So
    // only the first reads the clock, and take() stands in for the time of the later ones.
    bool burst = true;
    if (pushed_ == 0) {
        if (now == std::chrono::steady_clock::time_point{}) now = std::chrono::steady_clock::now();
        burst = !reply && now - last_push_ < burst_gap;
        last_push_ = now;
        burst_ = burst;
    }
    const int fd = direct_fd_.load();
    if (fd >= 0 && before == 0 && bulk_.empty() && !burst) {
        // Nothing ahead of it and the I/O thread idle: one write from here saves waking it.
        const std::size_t n = send_now(fd, pending_.data(), pending_.size());
        if (n > 0) wrote_direct_ = true;
        if (written) *written = n;
        if (n == pending_.size()) {
            pending_.clear();
            return result;
        }
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
        if (n > 0) cut_ = pending_.size();  // the rest of a frame begun on the socket
        direct_fd_.store(-1);  // the I/O thread sends the rest, or finds the socket's error
        added -= n;
    }
    unsent_ += added;
    ++pushed_;
    has_data_.store(true);
    end_full_hold();
    return result;
}

bool Outbox::holdable() const { return bulk_.empty() && pending_.size() < hold_bytes; }

void Outbox::end_full_hold() {
    // Enough to send: wake the I/O thread, unless it waits for the socket (it cannot send more).
    if (held_.load() && !for_socket_ && !holdable()) held_.store(false);
}

Outbox::Push Outbox::push_shared(const std::shared_ptr<const SharedFrame>& shared, std::string_view channel) {
    const std::size_t size = shared->size();
    std::lock_guard<std::mutex> lock(mutex_);
    if (size - frame_header_size > max_frame_) return Push::too_big;
    check_oversized(size);  // throws
    const Push result = admit(size);
    if (result != Push::queued) return result;
    if (shared->borrowed.empty() && size <= limit_ && !to_bulk(size, channel)) {
        pending_.insert(pending_.end(), shared->frame.begin(), shared->frame.end());
    } else {
        const bool oversized = size > limit_;
        bulk_.push_back(Bulk{std::string(channel), {}, {}, Map(), size, 0, oversized, shared});
        if (oversized) oversized_left_ = size;
    }
    unsent_ += size;
    ++pushed_;
    has_data_.store(true);
    end_full_hold();
    return result;
}

Outbox::Hold Outbox::hold(std::chrono::steady_clock::time_point now) {
    // The usual idle connection, without the lock (last_take_ is written by take(), on this
    // thread only): nothing queued, nothing held, no stream just taken.
    if (!has_data_.load() && !held_.load() && now >= last_take_ + hold_limit) return Hold{};
    std::lock_guard<std::mutex> lock(mutex_);
    const auto until = last_take_ + hold_limit;
    const bool held = streaming_ && now < until && holdable();
    held_.store(held);
    for_socket_ = false;
    if (held) direct_fd_.store(-1);  // a stream: no write of its own between the held ones
    return held ? Hold{false, until} : Hold{};
}

void Outbox::hold_for_socket() {
    std::lock_guard<std::mutex> lock(mutex_);
    held_.store(true);
    for_socket_ = true;
}

std::size_t Outbox::unsent() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return unsent_;
}

bool Outbox::take(Bytes& out, bool all, std::size_t* cut) {
    std::lock_guard<std::mutex> lock(mutex_);
    out.swap(pending_);
    if (cut) *cut = cut_;
    cut_ = 0;
    if (!out.empty() || !bulk_.empty()) {
        last_take_ = std::chrono::steady_clock::now();
        // One packet per take (a reply, a ping) is no stream, unless it was pushed right behind
        // the one before (a burst): then the I/O thread woke for it at once, between two sends
        // of a stream (on the game's own core they take turns, one packet each), and waking it
        // per packet is what holding avoids.
        streaming_ = pushed_ >= 2 || (pushed_ == 1 && burst_);
        if (pushed_ >= 2) last_push_ = last_take_;  // the later pushes were not timed: they came before this
        pushed_ = 0;
    }
    // Then the bulk lane: small frames at its head whole, then one piece of a big frame (with
    // `all`: everything, a big frame already begun in pieces, the others whole). The piece is
    // sized to the rate at which the socket took the last one (see piece_time).
    if (piece_at_ != std::chrono::steady_clock::time_point{}) {
        const auto took = std::chrono::duration_cast<std::chrono::microseconds>(last_take_ - piece_at_).count();
        const double rate = static_cast<double>(piece_taken_) / static_cast<double>(std::max<std::int64_t>(took, 1));  // bytes/us
        piece_ = std::clamp(static_cast<std::size_t>(rate * static_cast<double>(piece_time.count())), piece_min, piece_max);
    } else {
        piece_ = piece_size;
    }
    const std::size_t piece = std::min({piece_, max_frame_, piece_cap_});
    bool took_piece = false;
    while (!bulk_.empty()) {
        Bulk& bulk = bulk_.front();
        if (bulk.offset == 0 && (all || bulk.size <= std::min(bulk_threshold, max_frame_))) {
            const std::size_t at = out.size();
            bulk.copy(0, bulk.size, out);
            if (bulk.oversized) oversized_runs_.push_back({handed_ + at, handed_ + out.size()});
            bulk_.pop_front();
            continue;
        }
        const std::size_t n = std::min(piece, bulk.size - bulk.offset);
        append_frame_header(out, FrameKind::fragment, n);
        const std::size_t at = out.size();
        bulk.copy(bulk.offset, n, out);
        if (bulk.oversized) oversized_runs_.push_back({handed_ + at, handed_ + out.size()});
        unsent_ += frame_header_size;  // the fragment's own header is sent too
        bulk.offset += n;
        piece_taken_ = n;
        took_piece = true;
        if (bulk.offset == bulk.size) bulk_.pop_front();
        if (!all) break;
    }
    if (bulk_.empty() && !final_.empty()) {  // everything before it went: now the goodbye
        out.insert(out.end(), final_.begin(), final_.end());
        final_.clear();
    }
    handed_ += out.size();
    has_data_.store(!bulk_.empty() || !final_.empty());
    for_socket_ = false;
    direct_fd_.store(-1);  // these bytes are in flight now: later ones must wait behind them
    const bool more = took_piece && !bulk_.empty();
    piece_at_ = more ? last_take_ : std::chrono::steady_clock::time_point{};
    return more;
}

void Outbox::cap_pieces(std::size_t most) {
    std::lock_guard<std::mutex> lock(mutex_);
    piece_cap_ = std::max<std::size_t>(most, 1);
}

void Outbox::allow_direct(int descriptor) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_.empty() && bulk_.empty() && !held_.load()) direct_fd_.store(descriptor);
}

void Outbox::forbid_direct() {
    std::lock_guard<std::mutex> lock(mutex_);
    direct_fd_.store(-1);
}

bool Outbox::wrote_direct() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return wrote_direct_;
}

void Outbox::sent(std::size_t n) {
    std::lock_guard<std::mutex> lock(mutex_);
    unsent_ -= n;
    sent_ += n;
    // The oversized frame's bytes among them are sent: they stop being left out of the count
    // (they leave `unsent_` at the same time).
    while (runs_done_ < oversized_runs_.size() && oversized_runs_[runs_done_].first < sent_) {
        auto& run = oversized_runs_[runs_done_];
        const std::uint64_t to = std::min(run.second, sent_);
        oversized_left_ -= static_cast<std::size_t>(to - run.first);
        run.first = to;
        if (run.first == run.second) ++runs_done_;
    }
    if (runs_done_ > 0 && runs_done_ == oversized_runs_.size()) {
        oversized_runs_.clear();
        runs_done_ = 0;
    }
}

void Outbox::drop_queued(std::size_t in_flight, const Bytes& last, bool accept) {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.resize(cut_);  // a frame begun on the socket is finished, nothing else
    pending_.insert(pending_.end(), last.begin(), last.end());
    bulk_.clear();
    final_.clear();
    oversized_left_ = 0;  // what of it is in flight counts now, like the rest in flight
    oversized_runs_.clear();
    runs_done_ = 0;
    unsent_ = in_flight + pending_.size();
    overflowed_.store(false);  // dealt with: a reconnecting client's next connection starts afresh
    accepting_ = accept;
    has_data_.store(!pending_.empty());
    direct_fd_.store(-1);
    held_.store(false);
    for_socket_ = false;
    pushed_ = 0;
    piece_at_ = {};
}

void Outbox::stop_accepting() {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = false;
}

void Outbox::reset(bool accept) {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.clear();
    bulk_.clear();
    final_.clear();
    oversized_left_ = 0;
    oversized_runs_.clear();
    runs_done_ = 0;
    handed_ = sent_ = 0;
    max_frame_ = first_max_frame_;  // a new connection: its peer says its own
    cut_ = 0;
    unsent_ = 0;
    accepting_ = accept;
    direct_fd_.store(-1);
    wrote_direct_ = false;
    held_.store(false);
    for_socket_ = false;
    streaming_ = false;
    burst_ = false;
    heard_.store(false);
    pushed_ = 0;
    piece_at_ = {};
    overflowed_.store(false);
    has_data_.store(false);
}

}  // namespace sprocket::detail

#include <sprocket/detail/outbox.hpp>

#include <stdexcept>
#include <string>

namespace sprocket::detail {

void Outbox::check_fits(std::size_t frame, std::size_t max_frame, std::size_t limit) {
    const std::size_t body = frame - frame_header_size;
    if (body <= max_frame && frame <= limit) return;
    throw std::length_error("sprocket: a packet of " + std::to_string(body) + " bytes exceeds " +
                            (body > max_frame ? "max_frame_size " + std::to_string(max_frame)
                                              : "max_send_queue " + std::to_string(limit)));
}

Outbox::Push Outbox::admit(std::size_t adding) {
    if (!accepting_) return Push::closed;
    if (unsent_ + adding > limit_) {
        accepting_ = false;
        overflowed_.store(true);
        return Push::overflow;
    }
    return Push::queued;
}

Outbox::Push Outbox::push_packet(const Packet& packet, std::size_t* frame) {
    std::lock_guard<std::mutex> lock(mutex_);
    Push result = admit(0);
    if (result != Push::queued) return result;
    const std::size_t before = pending_.size();
    append_packet_frame(pending_, packet);
    const std::size_t added = pending_.size() - before;
    if (added - frame_header_size > max_frame_ || added > limit_) {
        pending_.resize(before);
        check_fits(added, max_frame_, limit_);  // throws
    }
    result = admit(added);
    if (result != Push::queued) {
        pending_.resize(before);
        return result;
    }
    unsent_ += added;
    has_data_.store(true);
    if (frame) *frame = added;
    return result;
}

Outbox::Push Outbox::push_frames(const Bytes& frames) {
    std::lock_guard<std::mutex> lock(mutex_);
    const Push result = admit(frames.size());
    if (result != Push::queued) return result;
    pending_.insert(pending_.end(), frames.begin(), frames.end());
    unsent_ += frames.size();
    has_data_.store(true);
    return result;
}

std::size_t Outbox::unsent() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return unsent_;
}

void Outbox::take(Bytes& out) {
    std::lock_guard<std::mutex> lock(mutex_);
    out.swap(pending_);
    has_data_.store(false);
}

void Outbox::sent(std::size_t n) {
    std::lock_guard<std::mutex> lock(mutex_);
    unsent_ -= n;
}

void Outbox::stop_accepting() {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = false;
}

void Outbox::reset(bool accept) {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.clear();
    unsent_ = 0;
    accepting_ = accept;
    overflowed_.store(false);
    has_data_.store(false);
}

}  // namespace sprocket::detail

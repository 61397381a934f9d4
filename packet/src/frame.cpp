#include <sprocket/frame.hpp>

#include <sprocket/codec.hpp>

#include "map_access.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace sprocket {

namespace {

void put_u32le(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v);
    p[1] = static_cast<std::uint8_t>(v >> 8);
    p[2] = static_cast<std::uint8_t>(v >> 16);
    p[3] = static_cast<std::uint8_t>(v >> 24);
}

std::uint32_t get_u32le(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

void check_body_size(std::size_t size) {
    if (size > max_frame_size_limit)
        throw std::length_error("[sprocket.frame] a frame body of " + std::to_string(size) +
                                " bytes exceeds the 4 GiB - 1 the header can express");
}

}  // namespace

void append_frame_header(Bytes& out, FrameKind kind, std::size_t size) {
    check_body_size(size);
    const std::size_t at = out.size();
    out.resize(at + frame_header_size);
    put_u32le(out.data() + at, static_cast<std::uint32_t>(size));
    out[at + 4] = static_cast<std::uint8_t>(kind);
}

void append_frame(Bytes& out, std::uint8_t kind, const std::uint8_t* body, std::size_t size) {
    append_frame_header(out, static_cast<FrameKind>(kind), size);
    out.insert(out.end(), body, body + size);
}

namespace {
// Puts `out` back to its old size unless dismissed: a failed append leaves no half frame.
class Rollback {
public:
    Rollback(Bytes& out, std::size_t size) : out_(out), size_(size) {}
    ~Rollback() {
        if (active_) out_.resize(size_);
    }
    Rollback(const Rollback&) = delete;
    Rollback& operator=(const Rollback&) = delete;
    void dismiss() noexcept { active_ = false; }

private:
    Bytes& out_;
    std::size_t size_;
    bool active_ = true;
};
// Likewise for the borrowed spans an append recorded.
struct BorrowedRollback {
    explicit BorrowedRollback(std::vector<Borrowed>& borrowed) : list(borrowed), size(borrowed.size()) {}
    ~BorrowedRollback() {
        if (active) list.resize(size);
    }
    BorrowedRollback(const BorrowedRollback&) = delete;
    BorrowedRollback& operator=(const BorrowedRollback&) = delete;
    std::vector<Borrowed>& list;
    std::size_t size;
    bool active = true;
};

// Fills in the header left at `at` for a packet body of `size` bytes. Throws like
// check_body_size.
void put_packet_header(Bytes& out, std::size_t at, std::size_t size) {
    check_body_size(size);
    put_u32le(out.data() + at, static_cast<std::uint32_t>(size));
    out[at + 4] = static_cast<std::uint8_t>(FrameKind::packet);
}

// Appends a packet frame whose body `encode_after(head)` appends after a header's room.
template <class EncodeAfter>
void append_encoded_frame(Bytes& out, EncodeAfter&& encode_after) {
    const std::size_t at = out.size();
    Rollback rollback(out, at);
    encode_after(frame_header_size);  // header and body: one allocation
    put_packet_header(out, at, out.size() - at - frame_header_size);
    rollback.dismiss();
}
}  // namespace

void append_packet_frame(Bytes& out, const Packet& packet) {
    append_encoded_frame(out, [&](std::size_t head) { detail::encode_after(head, packet, out); });
}

void append_packet_frame(Bytes& out, std::initializer_list<Map::Field> fields) {
    append_encoded_frame(out, [&](std::size_t head) { detail::encode_literal_after(head, fields, out); });
}

void append_packet_frame(Bytes& out, const Packet& packet, std::vector<Borrowed>& borrowed, std::size_t borrow_min) {
    const std::size_t at = out.size();
    Rollback rollback(out, at);
    BorrowedRollback borrowed_rollback(borrowed);
    detail::encode_after(frame_header_size, packet, out, &borrowed, borrow_min);
    std::size_t size = out.size() - at - frame_header_size;
    for (std::size_t i = borrowed_rollback.size; i < borrowed.size(); ++i) size += borrowed[i].size;
    put_packet_header(out, at, size);
    rollback.dismiss();
    borrowed_rollback.active = false;
}

FrameDecoder::FrameDecoder(std::size_t max_frame_size)
    : max_frame_size_(std::min(max_frame_size, max_frame_size_limit)) {}

std::uint8_t* FrameDecoder::prepare(std::size_t size) {
    if (begin_ == end_) {
        begin_ = end_ = 0;
        // After a big frame, give the memory back rather than keep it for every later read.
        if (buffer_.size() > release_threshold && size <= release_threshold / 4) buffer_ = decltype(buffer_)();
    }
    if (size > buffer_.max_size() - end_) throw std::length_error("[sprocket.frame] prepare: size too large");
    if (buffer_.size() - end_ < size) {
        // Move what is left to the front; grow if that is not room enough.
        if (begin_ > 0) {
            std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        if (buffer_.size() - end_ < size) grow(size);
    }
    return buffer_.data() + end_;
}

// Called with the unconsumed bytes at the front (begin_ == 0). The new buffer holds them and
// `size` more bytes; when a header announces a frame bigger than that (within the limit), the
// whole frame and one ordinary read after it: one allocation per big frame, no doubling, and
// nothing zero-filled or copied but the bytes already received.
void FrameDecoder::grow(std::size_t size) {
    std::size_t target = end_ + size;
    if (end_ >= frame_header_size) {
        const std::size_t body = get_u32le(buffer_.data());
        if (body <= max_frame_size_ && frame_header_size + body > target)
            target = frame_header_size + body + std::min(size, read_slack);
    }
    decltype(buffer_) bigger;
    bigger.resize(target);
    if (end_ != 0) std::memcpy(bigger.data(), buffer_.data(), end_);
    buffer_.swap(bigger);
}

void FrameDecoder::commit(std::size_t size) {
    if (size > buffer_.size() - end_)
        throw std::logic_error("[sprocket.frame] commit(" + std::to_string(size) + ") exceeds the " +
                               std::to_string(buffer_.size() - end_) + " bytes prepared");
    end_ += size;
}

void FrameDecoder::feed(const void* data, std::size_t size) {
    if (size == 0) return;
    std::memcpy(prepare(size), data, size);
    commit(size);
}

std::size_t FrameDecoder::needed() const noexcept {
    if (failed_) return 0;
    const std::size_t have = end_ - begin_;
    if (have < frame_header_size) return frame_header_size - have;
    const std::size_t body = get_u32le(buffer_.data() + begin_);
    if (body > max_frame_size_) return 0;  // next() will report it; nothing more to read
    const std::size_t total = frame_header_size + body;
    return total > have ? total - have : 0;
}

std::size_t FrameDecoder::partial(FrameView& frame) const noexcept {
    const std::size_t have = end_ - begin_;
    if (failed_ || have < frame_header_size) return 0;
    const std::uint8_t* header = buffer_.data() + begin_;
    const std::size_t size = get_u32le(header);
    if (size > max_frame_size_ || have - frame_header_size >= size) return 0;
    frame.kind = header[4];
    frame.body = header + frame_header_size;
    frame.size = have - frame_header_size;
    return size - frame.size;
}

void FrameDecoder::skip_partial() {
    FrameView frame;
    const std::size_t rest = partial(frame);
    if (rest == 0) throw std::logic_error("[sprocket.frame] skip_partial: no frame is partly buffered");
    consumed_ += frame_header_size + frame.size + rest;
    begin_ = end_;
}

FrameStatus FrameDecoder::next(FrameView& frame) {
    if (failed_) return FrameStatus::error;
    const std::size_t have = end_ - begin_;
    if (have == 0 && !buffer_.empty()) {
        // Everything was taken: an idle connection holds no buffer (the frames returned before
        // end here, as documented).
        buffer_ = decltype(buffer_)();
        begin_ = end_ = 0;
    }
    if (have < frame_header_size) return FrameStatus::incomplete;
    const std::uint8_t* header = buffer_.data() + begin_;
    const std::size_t size = get_u32le(header);
    if (size > max_frame_size_) {
        failed_ = true;
        error_ = DecodeError{DecodeErrc::too_large, consumed_,
                             "too large: frame of " + std::to_string(size) + " bytes exceeds the limit of " +
                                 std::to_string(max_frame_size_) + " (at byte " + std::to_string(consumed_) + ")"};
        return FrameStatus::error;
    }
    if (have - frame_header_size < size) return FrameStatus::incomplete;
    frame.kind = header[4];
    frame.body = header + frame_header_size;
    frame.size = size;
    begin_ += frame_header_size + size;
    consumed_ += frame_header_size + size;
    return FrameStatus::ready;
}

}  // namespace sprocket

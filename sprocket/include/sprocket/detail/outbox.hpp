#pragma once
/// \file
/// A connection's bounded outbound queue: frames appended by any thread, taken by the I/O thread
/// in one piece so they leave in as few system calls as possible.
///
/// A frame over `bulk_threshold` does not hold up the ones behind it: it goes out in
/// `fragment` frames of up to `piece_size`, and each take adds one piece after the small frames
/// queued meanwhile. Packets of the same channel as a big one still wait behind it (a channel
/// stays in order); other channels and heartbeats pass it.

#include <sprocket/frame.hpp>
#include <sprocket/packet.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace sprocket::detail {

/// One packet's frame shared by many outboxes (a `sendall`): encoded once, and a big one is
/// never copied per connection: each queue reads it from here.
struct SharedFrame {
    Bytes frame;                     ///< the frame, without the borrowed bytes
    std::vector<Borrowed> borrowed;  ///< big values left where `values` keeps them (offsets into `frame`)
    Map values;                      ///< the moved packet's values (`sendall(Packet&&)`), else empty
    /// The whole frame's size, borrowed bytes included.
    std::size_t size() const {
        std::size_t n = frame.size();
        for (const Borrowed& b : borrowed) n += b.size;
        return n;
    }
};

class Outbox {
public:
    enum class Push : std::uint8_t {
        queued,    ///< the bytes will be sent
        overflow,  ///< over the limit: nothing queued, and the outbox now refuses everything
        closed,    ///< the connection is closed: nothing queued
        too_big,   ///< bigger than the peer accepts (`max_frame`): nothing queued, the connection stays
    };

    /// `limit`: bytes queued and unsent; `max_frame`: the largest packet body the peer accepts.
    Outbox(std::size_t limit, std::size_t max_frame) : limit_(limit), max_frame_(max_frame), first_max_frame_(max_frame) {}

    /// Encodes `packet` as a frame at the end of the queue (on the calling thread); `frame`,
    /// if given, gets the frame's size when it was queued. When the I/O thread has allowed it
    /// (`allow_direct`), nothing is queued ahead and the last push was not a moment ago (a
    /// burst is better sent in one write by the I/O thread), the frame is written to the
    /// socket at once on the calling thread: `written` gets how many bytes went, and
    /// `needs_io()` says whether the I/O thread still has work (the rest of a partial write).
    /// `too_big` when its body exceeds `max_frame` (what the peer accepts). Throws
    /// std::length_error when the frame alone exceeds the limit while another such frame is not
    /// sent yet; nothing is queued then. One frame over the limit at a time is queued (a map
    /// download): its bytes not sent yet do not count against the limit. `now`: when it is pushed
    /// (if not given, the clock is read when that matters: for the first push since a take).
    Push push_packet(const Packet& packet, std::size_t* frame = nullptr, std::size_t* written = nullptr,
                     std::chrono::steady_clock::time_point now = {});
    /// The same, except that string and bytes values of `borrow_min` bytes or more are not
    /// copied: when there are any, the packet's values move into the queue (its channel stays,
    /// its map is left empty) and go out from where they are. Otherwise `packet` is untouched.
    Push push_packet(Packet&& packet, std::size_t* frame = nullptr, std::size_t* written = nullptr);
    /// Either of the two above: the second when `movable` is given (it must be `&packet`).
    Push push(const Packet& packet, Packet* movable, std::size_t* frame, std::size_t* written,
              std::chrono::steady_clock::time_point now = {});
    /// `push_packet(Packet(fields))`, encoded from the literal without making the packet.
    Push push_literal(std::initializer_list<Map::Field> fields, std::size_t* frame, std::size_t* written,
                      std::chrono::steady_clock::time_point now = {});
    /// A value this big is sent from where it is by the push above (a copy would cost more
    /// than the bookkeeping); it is the size above which a frame goes out in pieces too.
    static constexpr std::size_t borrow_min = std::size_t{64} << 10;  // bytes
    /// Appends a packet of `channel` encoded once for many connections (a `sendall`): a small
    /// one is copied into the queue, a big one (or one with borrowed values) is read from
    /// `shared` when it goes. Throws std::length_error like `push_packet`.
    Push push_shared(const std::shared_ptr<const SharedFrame>& shared, std::string_view channel);

    /// Frames bigger than this go out in pieces (`fragment` frames), others pass between them.
    static constexpr std::size_t bulk_threshold = std::size_t{64} << 10;  // bytes
    /// The first piece of a big frame one take hands out. The next ones are sized to what the
    /// socket took in about `piece_time` while the last one went (the time between takes), within
    /// `piece_min` and `piece_max`: big pieces where the socket drains fast (fewer wake-ups),
    /// small ones where it is slow (less for small frames to wait behind). All capped by
    /// `max_frame`, which the peer accepts.
    static constexpr std::size_t piece_size = std::size_t{256} << 10;  // bytes
    static constexpr std::size_t piece_min = std::size_t{64} << 10;   // bytes
    static constexpr std::size_t piece_max = std::size_t{4} << 20;    // bytes
    static constexpr std::chrono::microseconds piece_time{1000};
    /// I/O thread: pieces of big frames are at most `most` bytes from now on (a simulated slow
    /// link, which must not make small frames wait behind a second of its time). SIZE_MAX: no cap.
    void cap_pieces(std::size_t most);
    /// Appends a control frame built by `build(Bytes&)`, even past the limit (a goodbye must go
    /// out); but once past it the outbox counts as overflowed, so a peer that makes us answer
    /// (pings it never reads the pongs of) cannot grow it without bound. With `front`, the
    /// frame goes before everything queued (a hello ahead of packets sent early).
    template <class Build>
    void push_control(Build&& build, bool front = false) {
        std::lock_guard<std::mutex> lock(mutex_);
        Bytes frame;
        build(frame);
        unsent_ += frame.size();
        if (front) pending_.insert(pending_.begin(), frame.begin(), frame.end());
        else pending_.insert(pending_.end(), frame.begin(), frame.end());
        if (unsent_ - oversized_left_ > limit_) {  // as in admit(): a waiting oversized packet does not count
            accepting_ = false;
            overflowed_.store(true);
        }
        has_data_.store(true);
    }

    /// Sets the frame that goes after everything queued, big packets' pieces included (the
    /// goodbye of a close: what was sent before it must arrive before it).
    template <class Build>
    void push_final(Build&& build) {
        std::lock_guard<std::mutex> lock(mutex_);
        final_.clear();
        build(final_);
        unsent_ += final_.size();
        has_data_.store(true);
    }

    /// What a refusal of a frame of `frame` bytes (header included) over `max_frame` says.
    static std::string too_big_text(std::size_t frame, std::size_t max_frame);
    /// Throws std::length_error for a frame over the limit while another such frame is not sent
    /// yet (one oversized packet at a time; see `push_packet`). Any thread.
    void check_one_oversized(std::size_t frame) const {
        std::lock_guard<std::mutex> lock(mutex_);
        check_oversized(frame);
    }
    /// I/O thread, once the handshake said it: the largest packet body the peer accepts.
    void set_max_frame(std::size_t max_frame) {
        std::lock_guard<std::mutex> lock(mutex_);
        max_frame_ = max_frame;
    }
    std::size_t max_frame() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return max_frame_;
    }

    /// True when `take` would return bytes. Lock-free, for the I/O thread's loop.
    bool has_data() const { return has_data_.load(); }
    /// True when the I/O thread must be woken for what was pushed: anything queued, unless
    /// the I/O thread is holding this queue back (`hold`) and will look at it by itself.
    bool needs_io() const { return has_data_.load() && !held_.load(); }

    /// A stream of packets (a take of two or more, and more queued within this long after it)
    /// is taken at most once per `hold_limit`, so it leaves in a few big writes instead of one
    /// small write per wake-up of the I/O thread...
    static constexpr std::chrono::microseconds hold_limit{50};
    /// ... unless this many bytes are queued.
    static constexpr std::size_t hold_bytes = std::size_t{64} << 10;
    /// What `hold` decided.
    struct Hold {
        bool take = true;  ///< take the queue now
        std::chrono::steady_clock::time_point recheck = std::chrono::steady_clock::time_point::max();  ///< call `hold` again then
    };
    /// I/O thread, before `take`: within `hold_limit` of a take of two packets or more, the
    /// queue is held (pushes do not wake the I/O thread, nor write directly) until `recheck`,
    /// or until `hold_bytes` are queued. A packet queued on a quiet connection, or after a take
    /// of one (ping-pong), is taken at once; one queued behind a stream waits at most
    /// `hold_limit` (plus the timer's accuracy).
    Hold hold(std::chrono::steady_clock::time_point now);
    /// I/O thread: the socket is full and the I/O thread waits for it to drain, then looks at
    /// the queue again: until then, pushes do not wake it, however much is queued (it could not
    /// send more; the outbox's limit still refuses what is too much).
    void hold_for_socket();
    /// I/O thread: the connection is open and nothing is in flight, so pushes may write to
    /// `descriptor` directly until the next `take`, `forbid_direct` or `reset`.
    void allow_direct(int descriptor);
    /// The descriptor direct writes may use now (-1: none). Lock-free, for the I/O thread.
    int direct_descriptor() const { return direct_fd_.load(); }
    /// I/O thread: no more direct writes (the socket is closing or about to be replaced).
    void forbid_direct();
    /// True when a direct write put bytes of this stream on the socket since the last `reset`:
    /// what is queued may then continue a frame, and cannot move to another socket.
    bool wrote_direct() const;
    /// I/O thread: packets arrived on this connection. The next push answers them, so it starts
    /// no burst however soon it follows the last one: a fast ping-pong is not held as a stream.
    void heard() { heard_.store(true, std::memory_order_relaxed); }
    /// True once a push went over the limit.
    bool overflowed() const { return overflowed_.load(); }
    /// Bytes queued and not yet sent, in flight included.
    std::size_t unsent() const;
    std::size_t limit() const { return limit_; }

    /// I/O thread: moves the queued bytes into `out` (which must be empty) by swapping buffers,
    /// plus one piece of a big frame (`all`: every byte queued, for a stream about to end).
    /// True when a piece was taken and more of the bulk lane waits: the caller should let the
    /// socket drain before taking more, so small frames queued meanwhile are not behind a
    /// kernel buffer full of it. `cut`, if given, gets how many bytes at the start of `out`
    /// finish a frame whose beginning a direct write put on the socket (0 usually): the rest
    /// of `out` is whole frames.
    bool take(Bytes& out, bool all = false, std::size_t* cut = nullptr);
    /// I/O thread: `n` bytes taken earlier reached the kernel.
    void sent(std::size_t n);
    /// I/O thread, closing for a peer that does not read: drops everything queued except the
    /// rest of a frame a direct write began on the socket (which must be finished, or the peer
    /// could not read what follows), and queues `last` (a goodbye) right after it. `in_flight`:
    /// bytes taken and not yet sent, which stay counted as unsent. The outbox no longer counts
    /// as overflowed. With `accept`, new pushes are queued (for a reconnecting client's next
    /// connection); without, they return `closed`.
    void drop_queued(std::size_t in_flight, const Bytes& last, bool accept);
    /// Keeps what is queued but refuses new pushes (`closed`): the connection is closing.
    void stop_accepting();
    /// Drops everything queued. With `accept`, new pushes are queued (for the next connection
    /// of a reconnecting client); without, they return `closed`.
    void reset(bool accept);

private:
    // push and push_literal: `append(borrowed)` appends the frame of a packet of `channel` to
    // pending_ (with mutex_ held); `movable` holds the borrowed payloads, if any.
    template <class Append>
    Push push_frame(std::string_view channel, const Append& append, Packet* movable, std::size_t* frame,
                    std::size_t* written, std::chrono::steady_clock::time_point now);
    Push admit(std::size_t adding);  // with mutex_ held
    // With mutex_ held: throws std::length_error for a frame over the limit while another one
    // over it is still queued (one oversized packet at a time).
    void check_oversized(std::size_t frame) const;
    // With mutex_ held: a frame of `added` bytes of `channel` must go to the bulk lane: it is
    // big, or a big frame of its channel is still queued.
    bool to_bulk(std::size_t added, std::string_view channel) const;
    // With mutex_ held: the frame from `before` on (and its borrowed payloads) to the bulk lane.
    void move_to_bulk(std::size_t before, std::string_view channel, std::vector<Borrowed> borrowed, Map values);
    // With mutex_ held: the queue may be held (no big frame, less than hold_bytes queued).
    bool holdable() const;
    // With mutex_ held: a held queue that is no longer holdable wakes the I/O thread again.
    void end_full_hold();

    // A frame in the bulk lane: `frame`, with each borrowed payload put back at its place.
    struct Bulk {
        std::string channel;
        Bytes frame;
        std::vector<Borrowed> borrowed;  // offsets into `frame`, in order
        Map values;                      // the moved packet's values, which hold the borrowed bytes
        std::size_t size = 0;            // of the whole frame
        std::size_t offset = 0;          // bytes of it already handed out
        bool oversized = false;          // bigger than the limit on its own (see admit)
        std::shared_ptr<const SharedFrame> shared;  // when set, the frame is there (a sendall's)
        /// Appends bytes [from, from + n) of the whole frame to `out`.
        void copy(std::size_t from, std::size_t n, Bytes& out) const;
    };

    mutable std::mutex mutex_;
    Bytes pending_;
    std::deque<Bulk> bulk_;  // big frames, and frames of their channels queued behind them
    std::size_t unsent_ = 0;
    std::size_t oversized_left_ = 0;  // bytes of the one oversized frame not sent yet
    // Where its bytes handed out lie in the stream (in `handed_` counts), until `sent` passes them.
    // A vector, not a deque: an idle connection holds no memory for it (a deque allocates ~600
    // bytes when made). `runs_done_` of them are passed.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> oversized_runs_;
    std::size_t runs_done_ = 0;
    std::uint64_t handed_ = 0;        // bytes take() handed out on this stream
    std::uint64_t sent_ = 0;          // of those, reported sent
    Bytes final_;                     // push_final's frame: taken once nothing else is left
    std::size_t limit_;
    std::size_t max_frame_;
    std::size_t first_max_frame_;  // max_frame until the peer says its own (reset() restores it)
    bool accepting_ = true;
    std::atomic<bool> has_data_{false};
    std::atomic<bool> overflowed_{false};
    std::atomic<bool> held_{false};  // written under mutex_ (see hold)
    bool for_socket_ = false;        // held by hold_for_socket: no push wakes the I/O thread
    std::chrono::steady_clock::time_point last_take_{};  // when take last handed out bytes (I/O thread)
    std::size_t pushed_ = 0;   // packets queued since that take
    bool streaming_ = false;   // that take held two packets, or one right behind another: a stream
    std::size_t piece_ = piece_size;  // the next piece's size (I/O thread)
    std::size_t piece_taken_ = 0;     // the size of the last piece taken
    std::size_t piece_cap_ = SIZE_MAX;  // cap_pieces
    std::chrono::steady_clock::time_point piece_at_{};  // when the last piece was taken, if more waited
    std::atomic<int> direct_fd_{-1};  // written under mutex_
    bool wrote_direct_ = false;
    std::size_t cut_ = 0;  // bytes at the head of pending_ that finish a frame a direct write began
    std::chrono::steady_clock::time_point last_push_{};
    bool burst_ = false;  // the last push came within burst_gap of the one before
    std::atomic<bool> heard_{false};  // packets arrived since the last push (see heard)
};

}  // namespace sprocket::detail

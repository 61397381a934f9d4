#pragma once
// Inside packet/: what the codec and the footprint walk need of Map's storage.
#include <sprocket/archive.hpp>
#include <sprocket/frame.hpp>
#include <sprocket/packet.hpp>
#include <sprocket/value.hpp>

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <string>

namespace sprocket {

namespace detail {
/// Heap bytes a string holds: none while it fits in its own buffer, else its capacity and the
/// terminating zero.
inline std::size_t heap_bytes(const std::string& s) noexcept {
    return s.capacity() > std::string().capacity() ? s.capacity() + 1 : 0;
}
/// Heap bytes of a string made of `n` chars (heap_bytes of it), without making it.
inline std::size_t string_heap(std::size_t n) noexcept {
    static const std::size_t local = std::string().capacity();
    return n > local ? n + 1 : 0;
}
/// Appends `head` (at most 16) bytes, left for the caller to fill, then the packet's bytes;
/// with `borrowed`, string and bytes values of `borrow_min` bytes or more are recorded there
/// instead of copied (see append_packet_frame in frame.hpp).
void encode_after(std::size_t head, const Packet& packet, Bytes& out, std::vector<Borrowed>* borrowed = nullptr,
                  std::size_t borrow_min = 0);
/// `encode_after` for `Packet(fields)`, without making the packet: the same bytes.
void encode_literal_after(std::size_t head, std::initializer_list<Map::Field> fields, Bytes& out);
}  // namespace detail

/// Where one entry of a Map lives: an entry, or a free slot's link to the next free slot.
union Map::Slot {
    Slot() noexcept {}  // NOLINT: no member is live until one is constructed
    ~Slot() {}          // NOLINT: the owner destroys the live member
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

    Entry entry;
    Slot* next_free;
};

/// One allocation: this header, `capacity` slots, then room for `order_capacity` entry
/// pointers (the key order, used in the newest block only: room for every slot of every block).
struct Map::Block {
    std::unique_ptr<Block, BlockDeleter> older;
    std::size_t bytes;               // the allocation's size
    std::uint32_t capacity;          // slots
    std::uint32_t order_capacity;    // entry pointers

    Slot* slots() noexcept { return reinterpret_cast<Slot*>(this + 1); }
    Entry** order() noexcept { return reinterpret_cast<Entry**>(slots() + capacity); }
};
struct MapAccess {
    /// Decodes a map's count and entries into `map` (cleared first). Keys in order take the
    /// fast path; any order is accepted, and a repeated key is `duplicate_key` at the offset
    /// just after it. Adds what the entries hold on the heap to `footprint` if not null.
    static void load_entries(ByteInputArchive& ar, Map& map, std::size_t* footprint);
    /// `load_entries` into `map` (`Out` is `Value`, `out` unused), or the same checks without
    /// making anything (`Out` is codec.cpp's `Skim`, `map` unused), adding the footprint the
    /// entries have or would have to `held` (codec.cpp).
    template <class Out>
    static void read_entries(ByteInputArchive& ar, Map* map, Out* out, std::size_t& held);
    /// Heap bytes of the map's own storage: its blocks (not what the entries' keys and values
    /// hold).
    static std::size_t own_bytes(const Map& map) noexcept;
    /// What `own_bytes` gives for a map that was empty, got `reserve_exact(reserve)` and then
    /// `n` entries, without making it.
    static std::size_t reserved_bytes(std::size_t reserve, std::size_t n) noexcept;
    /// decode_checked's part (decode_checked.cpp): a map's count and entries from `at` into the
    /// empty `map`, `depth` maps and lists deep; `at` moves past them.
    static void build_checked(const std::uint8_t*& at, const std::uint8_t* end, Map& map, std::size_t depth);
    /// A block of `capacity` slots and room for `order_capacity` entry pointers, neither
    /// initialized.
    static std::unique_ptr<Map::Block, Map::BlockDeleter> make_block(std::size_t capacity, std::size_t order_capacity);

    /// A literal's fields in key order, one per key (the last of equal ones): the entries
    /// `Map(fields)` makes, in the order it keeps them (value.cpp). Throws std::bad_alloc.
    class LiteralOrder {
    public:
        explicit LiteralOrder(std::initializer_list<Map::Field> fields);
        LiteralOrder(const LiteralOrder&) = delete;
        LiteralOrder& operator=(const LiteralOrder&) = delete;
        const Map::Field* const* begin() const noexcept { return order_; }
        const Map::Field* const* end() const noexcept { return order_ + size_; }
        std::size_t size() const noexcept { return size_; }

    private:
        const Map::Field* small_[16];  // NOLINT: written before it is read
        std::unique_ptr<const Map::Field*[]> large_;  // for literals of more than 16 fields
        const Map::Field** order_ = small_;
        std::size_t size_ = 0;
    };
    static std::string_view key(const Map::Field& field) noexcept { return field.key_; }
    /// The field's value; `Map(fields)` moves it out (a literal is used once).
    static Value& value(const Map::Field& field) noexcept { return field.value_; }
};

}  // namespace sprocket

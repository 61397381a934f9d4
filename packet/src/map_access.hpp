#pragma once
// Inside packet/: what the codec and the footprint walk need of Map's storage.
#include <sprocket/archive.hpp>
#include <sprocket/value.hpp>

#include <cstddef>
#include <string>

namespace sprocket {

namespace detail {
/// Heap bytes a string holds: none while it fits in its own buffer, else its capacity and the
/// terminating zero.
inline std::size_t heap_bytes(const std::string& s) noexcept {
    return s.capacity() > std::string().capacity() ? s.capacity() + 1 : 0;
}
}  // namespace detail

/// Where one entry of a Map lives: an entry, a free slot's link to the next free slot, or (the
/// slot past the last entry slot of a block that replaced a full one) the older block.
union Map::Slot {
    struct Link {
        std::unique_ptr<Slot[]> block;
        std::uint32_t capacity;
        bool linked;
    };
    Slot() noexcept {}  // NOLINT: no member is live until one is constructed
    ~Slot() {}          // NOLINT: the owner destroys the live member
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

    Entry entry;
    Slot* next_free;
    Link link;
};

struct MapAccess {
    /// Decodes a map's count and entries into `map` (cleared first). Keys in order take the
    /// fast path; any order is accepted, and a repeated key is `duplicate_key` at the offset
    /// just after it. Adds what the entries hold on the heap to `footprint` if not null.
    static void load_entries(ByteInputArchive& ar, Map& map, std::size_t* footprint);
    /// Heap bytes of the map's own storage: its blocks and its index (not what the entries'
    /// keys and values hold).
    static std::size_t own_bytes(const Map& map) noexcept;
};

}  // namespace sprocket

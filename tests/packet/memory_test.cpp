// What decoding allocates, measured by counting every operator new: hostile sizes allocate
// nothing, the worst case stays within a fixed multiple of the input, and the hot path makes
// one allocation per map (its entries and their order), whatever its size.
#include <sprocket/codec.hpp>
#include <sprocket/detail/block_pool.hpp>
#include <sprocket/frame.hpp>

#include "wire_builder.hpp"

#include <cereal/types/vector.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <new>

namespace {
bool counting = false;
std::size_t allocated_bytes = 0;
std::size_t allocations = 0;

struct Count {
    Count() {
        sprocket::detail::trim_block_pool();  // blocks freed earlier would be reused, not allocated
        allocated_bytes = 0;
        allocations = 0;
        counting = true;
    }
    ~Count() { counting = false; }
};
}  // namespace

// Every replaceable form that the standard library uses here goes through malloc/free, so
// the sanitizers see matching pairs.
namespace {
void* counted_malloc(std::size_t n) noexcept {
    if (counting) {
        allocated_bytes += n;
        ++allocations;
    }
    return std::malloc(n == 0 ? 1 : n);
}
}  // namespace

void* operator new(std::size_t n) {
    if (void* p = counted_malloc(n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    if (void* p = counted_malloc(n)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

using namespace sprocket;

TEST_CASE("hostile sizes allocate nothing for what they claim") {
    for (const std::uint8_t tag : {wire::string, wire::bytes, wire::list, wire::map, wire::object}) {
        const Bytes bytes = wire::packet(1, {wire::cat({wire::str("k"), wire::byte(tag),
                                                        wire::varint(std::uint64_t{1} << 40), Bytes(32, 0)})});
        std::size_t used = 0;
        {
            Count count;
            CHECK_FALSE(decode(bytes).ok());
            used = allocated_bytes;
        }
        CAPTURE(int(tag));
        CHECK(used < 4096);  // the packet's entry vector and the error message, nothing more
    }
}

TEST_CASE("the worst case allocates a bounded multiple of the input") {
    // Shapes where each input byte becomes a whole value: lists of nulls, maps of one-letter
    // keys, nested lists that each claim as much as they can.
    const std::size_t n = 100000;
    Bytes list_of_nulls = wire::packet(1, {wire::cat({wire::str("k"), wire::byte(wire::list), wire::varint(n)})});
    list_of_nulls.resize(list_of_nulls.size() + n, wire::null);

    Bytes map_of_keys = wire::packet(1, {wire::cat({wire::str("k"), wire::byte(wire::map), wire::varint(250)})});
    for (int i = 0; i < 250; ++i) {
        map_of_keys.push_back(1);
        map_of_keys.push_back(static_cast<std::uint8_t>(i));
        map_of_keys.push_back(wire::null);
    }

    // The same keys in reverse: the out-of-order path keeps a set of the keys so far.
    Bytes reversed_keys = wire::packet(1, {wire::cat({wire::str("k"), wire::byte(wire::map), wire::varint(250)})});
    for (int i = 249; i >= 0; --i) {
        reversed_keys.push_back(1);
        reversed_keys.push_back(static_cast<std::uint8_t>(i));
        reversed_keys.push_back(wire::null);
    }

    Bytes claiming = wire::packet(1, {wire::str("k")});
    for (int i = 0; i < 31; ++i) {  // each list claims every byte that remains
        claiming.push_back(wire::list);
        const Bytes count = wire::varint(1000 - static_cast<std::size_t>(i) * 3 - 3);
        claiming.insert(claiming.end(), count.begin(), count.end());
    }
    claiming.resize(claiming.size() + 1000, wire::null);

    for (const Bytes* input : {&list_of_nulls, &map_of_keys, &reversed_keys, &claiming}) {
        std::size_t used = 0;
        {
            Count count;
            (void)decode(*input);
            used = allocated_bytes;
        }
        MESSAGE("input " << input->size() << " bytes, allocated " << used << " bytes");
        CHECK(used <= 56 * input->size() + 4096);  // as codec.hpp promises
        CHECK(used <= sizeof(Value) * input->size() + 4096);  // a list of nulls: sizeof(Value) per byte
    }
}

TEST_CASE("the reference packet decodes with one allocation, and encodes (as a frame too) with one") {
    const Packet reference{{"id", 17}, {"name", "Player 1"}, {"x", 312.5}, {"y", -48.25},
                           {"angle", 1.25}, {"hp", 100}, {"alive", true}};
    const Bytes bytes = encode(reference);
    std::size_t decode_allocations = 0, encode_allocations = 0;
    bool decoded = false;
    Bytes again;
    {
        Count count;
        decoded = decode(bytes).ok();
        decode_allocations = allocations;
    }
    {
        Count count;
        again = encode(reference);
        encode_allocations = allocations;
    }
    std::size_t frame_allocations = 0;
    Bytes frame;
    {
        Count count;
        append_packet_frame(frame, reference);  // header and body together
        frame_allocations = allocations;
    }
    CHECK(frame_allocations == 1);
    CHECK(frame.size() == frame_header_size + bytes.size());
    CHECK(decoded);
    // One block for the entries and their order; the keys and "Player 1" fit in
    // std::string's own buffer.
    CHECK(decode_allocations == 1);
    CHECK(encode_allocations == 1);  // sized in advance
    CHECK(again == bytes);
}

TEST_CASE("a 64-player state decodes with one allocation per map, and its footprint is what it allocated") {
    List players;
    for (int i = 0; i < 64; ++i)
        players.emplace_back(Map{{"id", i}, {"name", "Player " + std::to_string(i)}, {"x", 10.0 * i},
                                 {"y", -48.25}, {"angle", 1.25}, {"hp", 100}, {"alive", true}});
    const Packet state = Packet::on("state", {{"tick", 1}, {"t", 123456789}, {"players", players}});
    const Bytes bytes = encode(state);
    std::size_t count = 0, bytes_allocated = 0, footprint = 0;
    bool same = false;
    {
        Count counting_scope;
        DecodeResult result = decode(bytes);
        count = allocations;
        bytes_allocated = allocated_bytes;
        footprint = result.footprint();
        same = result.ok() && result.packet() == state;
    }
    CHECK(same);
    CHECK(count == 1 + 1 + 64);  // the packet's map, the list, each player's map
    // The footprint counts every allocation at its size, plus the Packet itself.
    CHECK(footprint == bytes_allocated + sizeof(Packet));
}

namespace {
struct Entity {  // 1 KiB in memory, 9 bytes on the wire
    float x = 0, y = 0;
    char name[1000] = {};
    int hp = 0;
    template <class Archive>
    void serialize(Archive& ar) { ar(x, y, hp); }
};
struct Snapshot {
    std::vector<Entity> entities;
    template <class Archive>
    void serialize(Archive& ar) { ar(entities); }
};
}  // namespace

TEST_CASE("reading an object that claims many big elements costs what its bytes hold") {
    // 64 KiB of blob claiming 60,000 entities (the size check passes: 60,000 <= the bytes that
    // remain): cereal's own loader would resize to 60 MB before reading the first one.
    Bytes blob = wire::varint(60000);
    blob.resize(65536, 0);
    const Packet p{{"snap", Object{blob}}};
    std::size_t used = 0;
    bool read = true;
    {
        Count count;
        read = p.try_get<Snapshot>("snap").has_value();
        used = allocated_bytes;
    }
    CHECK_FALSE(read);  // the bytes run out long before 65536 entities
    MESSAGE("allocated " << used << " bytes for a " << blob.size() << "-byte blob");
    // About 7,300 entities' worth of bytes is there; growth doubles: under 2 * 7,300 * 1 KiB * 2.
    CHECK(used < 32u * 1024 * 1024);
}

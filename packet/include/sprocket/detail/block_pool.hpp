#pragma once
/// \file
/// Memory for Map blocks, recycled through a cache per thread and a shared depot.
///
/// A game's packets are decoded on the I/O thread and freed on the game's thread. With plain
/// operator new, each such free goes into the decoding thread's malloc arena under that arena's
/// lock, which the decoding thread needs for its next allocation: at a few million packets a
/// second the two threads take turns on one lock (measured: a third of the receiving process's
/// futex calls). Here a freed block goes into the freeing thread's cache; a full cache hands a
/// batch of blocks to the depot (one lock per batch) and an empty one takes a batch from it, so
/// blocks flow back to the thread that allocates them.
///
/// Blocks up to `pooled_limit` bytes are pooled, in size classes `pool_granule` bytes apart;
/// bigger ones use operator new directly. What is kept is bounded: the depot keeps at most
/// 1 MiB per size class (32 classes), a thread's cache fewer than 64 blocks per class; the rest
/// is freed. Under AddressSanitizer nothing is pooled, so it still catches a block used after
/// its map let go of it.

#include <cstddef>

namespace sprocket::detail {

inline constexpr std::size_t pool_granule = 64;    // bytes between size classes
inline constexpr std::size_t pooled_limit = 2048;  // bytes: the largest pooled block

/// The bytes a block of `bytes` really occupies (its size class, or `bytes` rounded to the
/// alignment when not pooled): what a map's footprint counts.
std::size_t block_capacity(std::size_t bytes) noexcept;
/// A block of at least `bytes`, aligned for any scalar. Throws std::bad_alloc.
void* allocate_block(std::size_t bytes);
/// Gives back a block from `allocate_block(bytes)`.
void deallocate_block(void* block, std::size_t bytes) noexcept;
/// Frees the blocks cached by the calling thread and held by the depot (tests measure
/// allocations after this).
void trim_block_pool() noexcept;

}  // namespace sprocket::detail

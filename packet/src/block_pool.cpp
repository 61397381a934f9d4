#include <sprocket/detail/block_pool.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define SPROCKET_POOL_BLOCKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPROCKET_POOL_BLOCKS 0
#endif
#endif
#ifndef SPROCKET_POOL_BLOCKS
#define SPROCKET_POOL_BLOCKS 1
#endif

namespace sprocket::detail {

namespace {

using Words = std::allocator<std::max_align_t>;  // what blocks are allocated in
constexpr std::size_t words(std::size_t bytes) { return (bytes + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t); }
static_assert(pool_granule % sizeof(std::max_align_t) == 0 && pooled_limit % pool_granule == 0);

constexpr std::size_t classes = pooled_limit / pool_granule;
constexpr std::size_t batch = 32;                           // blocks moved to or from the depot at once
constexpr std::size_t depot_bytes = std::size_t{1} << 20;   // the most the depot keeps per class

constexpr std::size_t class_of(std::size_t bytes) { return (bytes + pool_granule - 1) / pool_granule - 1; }
constexpr std::size_t class_bytes(std::size_t c) { return (c + 1) * pool_granule; }

void* fresh(std::size_t bytes) { return Words().allocate(words(bytes)); }
void release(void* block, std::size_t bytes) noexcept {
    Words().deallocate(static_cast<std::max_align_t*>(block), words(bytes));
}

struct FreeBlock {
    FreeBlock* next;
};

// A singly linked list threaded through free blocks of one class.
struct List {
    FreeBlock* head = nullptr;
    std::size_t count = 0;

    void push(void* block) noexcept {
        auto* node = static_cast<FreeBlock*>(block);  // the block's memory is ours again
        node->next = head;
        head = node;
        ++count;
    }
    void* pop() noexcept {
        FreeBlock* node = head;
        head = node->next;
        --count;
        return node;
    }
    // The first `n` blocks as a list of their own.
    List split(std::size_t n) noexcept {
        List out{head, n};
        FreeBlock* last = head;
        for (std::size_t i = 1; i < n; ++i) last = last->next;
        head = last->next;
        last->next = nullptr;
        count -= n;
        return out;
    }
    void free_all(std::size_t bytes) noexcept {
        while (head) release(pop(), bytes);
    }
};

std::atomic<bool> depot_closed{false};  // constant-initialized: valid through static destruction

class Depot {
public:
    ~Depot() {
        std::lock_guard<std::mutex> lock(mutex_);
        depot_closed.store(true);
        trim_locked();
    }
    // Keeps `list` (a full batch) if there is room; frees it otherwise.
    void give(std::size_t c, List list) noexcept {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!depot_closed.load() && batches_[c].size() < max_batches(c)) {
                try {
                    batches_[c].push_back(list);
                    return;
                } catch (const std::bad_alloc&) {  // no room for the entry: free the blocks instead
                }
            }
        }
        list.free_all(class_bytes(c));
    }
    List take(std::size_t c) noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        if (batches_[c].empty()) return {};
        const List list = batches_[c].back();
        batches_[c].pop_back();
        return list;
    }
    void trim() noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        trim_locked();
    }

private:
    static std::size_t max_batches(std::size_t c) { return depot_bytes / (batch * class_bytes(c)) + 1; }
    void trim_locked() noexcept {
        for (std::size_t c = 0; c < classes; ++c) {
            for (List& list : batches_[c]) list.free_all(class_bytes(c));
            batches_[c].clear();
        }
    }
    std::mutex mutex_;
    std::array<std::vector<List>, classes> batches_;
};

Depot& depot() {
    static Depot instance;
    return instance;
}

thread_local bool cache_gone = false;  // trivially destructible: readable after the cache is gone

// One thread's free blocks; given to the depot when the thread ends.
struct Cache {
    std::array<List, classes> lists;
    ~Cache() {
        trim();
        cache_gone = true;  // a map freed later in this thread's exit bypasses the pool
    }
    void trim() noexcept {
        for (std::size_t c = 0; c < classes; ++c) {
            List& list = lists[c];
            while (list.count >= batch && !depot_closed.load()) depot().give(c, list.split(batch));
            list.free_all(class_bytes(c));
        }
    }
};

#if SPROCKET_POOL_BLOCKS
thread_local Cache cache;
#endif

}  // namespace

std::size_t block_capacity(std::size_t bytes) noexcept {
    if (SPROCKET_POOL_BLOCKS && bytes <= pooled_limit) return class_bytes(class_of(bytes));
    return words(bytes) * sizeof(std::max_align_t);
}

#if SPROCKET_POOL_BLOCKS

void* allocate_block(std::size_t bytes) {
    if (bytes > pooled_limit) return fresh(bytes);
    if (cache_gone) return fresh(class_bytes(class_of(bytes)));
    const std::size_t c = class_of(bytes);
    List& list = cache.lists[c];
    if (list.count == 0 && !depot_closed.load()) list = depot().take(c);
    if (list.count > 0) return list.pop();
    return fresh(class_bytes(c));
}

void deallocate_block(void* block, std::size_t bytes) noexcept {
    if (bytes > pooled_limit || cache_gone) {
        release(block, block_capacity(bytes));
        return;
    }
    const std::size_t c = class_of(bytes);
    List& list = cache.lists[c];
    list.push(block);
    if (list.count >= 2 * batch) {
        if (depot_closed.load()) list.split(batch).free_all(class_bytes(c));
        else depot().give(c, list.split(batch));
    }
}

void trim_block_pool() noexcept {
    if (!cache_gone) cache.trim();
    if (!depot_closed.load()) depot().trim();
}

#else

void* allocate_block(std::size_t bytes) { return fresh(bytes); }
void deallocate_block(void* block, std::size_t bytes) noexcept { release(block, bytes); }
void trim_block_pool() noexcept {}

#endif

}  // namespace sprocket::detail

// RecyclingAllocator: an allocator for std::allocate_shared that takes its blocks from a
// BlockPool and gives them back to it, so that a warm server makes the shared OpenFile of each
// file response without a heap allocation.
//
// The pool belongs to whoever made it (a files handler), not to a thread or the process: the
// library keeps no global state. Its list is guarded by a mutex, since one handler may serve
// on several reactors' threads; uncontended, as it nearly always is, that is two atomic
// operations. Every allocator holds the pool by shared_ptr, so a block freed after its
// handler is gone still has a pool to go back to.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <utility>

namespace hs::static_files {

class BlockPool {
 public:
  // One size of block: allocate_shared asks for one holding the object and its reference
  // counts (and this allocator); anything larger goes to operator new.
  static constexpr size_t kBlockBytes = 64;
  static constexpr size_t kKeep = 1024;  // blocks kept for reuse at most

  BlockPool() = default;
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;
  ~BlockPool() {
    while (head_ != nullptr) ::operator delete(std::exchange(head_, head_->next));
  }

  void* take(size_t bytes) {
    if (bytes <= kBlockBytes) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (head_ != nullptr) {
        --count_;
        return std::exchange(head_, head_->next);
      }
    }
    return ::operator new(bytes <= kBlockBytes ? kBlockBytes : bytes);
  }

  void give_back(void* p, size_t bytes) noexcept {
    if (bytes <= kBlockBytes) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (count_ < kKeep) {
        head_ = new (p) FreeBlock{head_};
        ++count_;
        return;
      }
    }
    ::operator delete(p);
  }

 private:
  struct FreeBlock {
    FreeBlock* next;
  };
  std::mutex mutex_;
  FreeBlock* head_ = nullptr;
  size_t count_ = 0;
};

template <class T>
struct RecyclingAllocator {
  using value_type = T;
  explicit RecyclingAllocator(std::shared_ptr<BlockPool> pool) noexcept : pool(std::move(pool)) {}
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U>& other) noexcept : pool(other.pool) {}
  T* allocate(size_t n) { return static_cast<T*>(pool->take(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { pool->give_back(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const RecyclingAllocator<U>& other) const noexcept {
    return pool == other.pool;
  }

  std::shared_ptr<BlockPool> pool;
};

}  // namespace hs::static_files

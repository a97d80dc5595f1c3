// RecyclingAllocator: an allocator for std::allocate_shared that keeps freed blocks on a
// per-thread list and hands them out again, so that a warm server makes the shared
// OpenFile of each file response without a heap allocation.
//
// One size of block for every allocator of this family (kBlockBytes): allocate_shared asks
// for one block holding the object and its reference counts; anything larger goes to
// operator new. A block freed on another thread joins that thread's list (all blocks are
// alike). At most kKeep blocks wait per thread; the list is freed when the thread ends, and a
// block let go after that (by another thread-local's destructor) goes back to the heap.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace hs::static_files {

namespace recycling {

inline constexpr size_t kBlockBytes = 64;
inline constexpr size_t kKeep = 256;

struct FreeBlock {
  FreeBlock* next;
};

struct List {
  FreeBlock* head = nullptr;
  size_t count = 0;
  ~List();
};

// Trivially destructible, so still readable while other thread-locals are destroyed.
inline thread_local bool t_list_gone = false;
inline thread_local List t_list;

inline List::~List() {
  while (head != nullptr) ::operator delete(std::exchange(head, head->next));
  t_list_gone = true;
}

inline void* take(size_t bytes) {
  if (bytes <= kBlockBytes && !t_list_gone && t_list.head != nullptr) {
    --t_list.count;
    return std::exchange(t_list.head, t_list.head->next);
  }
  return ::operator new(bytes <= kBlockBytes ? kBlockBytes : bytes);
}

inline void give_back(void* p, size_t bytes) noexcept {
  if (bytes > kBlockBytes || t_list_gone || t_list.count >= kKeep) return ::operator delete(p);
  t_list.head = new (p) FreeBlock{t_list.head};
  ++t_list.count;
}

}  // namespace recycling

template <class T>
struct RecyclingAllocator {
  using value_type = T;
  RecyclingAllocator() noexcept = default;
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return static_cast<T*>(recycling::take(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { recycling::give_back(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const RecyclingAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace hs::static_files

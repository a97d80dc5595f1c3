// Intrusive doubly linked list: the links live inside the element, so linking and unlinking
// are O(1) and never allocate (h2o's linklist.h).
//
// The server keeps one list per connection state (reading a header, idle, writing, lingering).
// Every connection in one list has the same timeout, so appending at the tail keeps each list
// sorted by deadline: expiring is "pop from the head while due".
#pragma once

namespace hs {

struct ListLink {
  ListLink* prev = nullptr;
  ListLink* next = nullptr;

  bool linked() const noexcept { return next != nullptr; }

  // Removes this link from whatever list holds it; harmless when not linked.
  void unlink() noexcept {
    if (!linked()) return;
    prev->next = next;
    next->prev = prev;
    prev = next = nullptr;
  }
};

// A circular list with a sentinel. Not copyable or movable: elements point at the sentinel.
class List {
 public:
  List() noexcept { head_.prev = head_.next = &head_; }
  List(const List&) = delete;
  List& operator=(const List&) = delete;

  bool empty() const noexcept { return head_.next == &head_; }
  ListLink* front() const noexcept { return empty() ? nullptr : head_.next; }

  // Appends `link` at the tail, unlinking it first from any list it is in.
  void push_back(ListLink& link) noexcept {
    link.unlink();
    link.prev = head_.prev;
    link.next = &head_;
    head_.prev->next = &link;
    head_.prev = &link;
  }

 private:
  ListLink head_;
};

}  // namespace hs

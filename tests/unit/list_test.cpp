#include "list.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace hs {
namespace {

struct Item : ListLink {
  explicit Item(int v) : value(v) {}
  int value;
};

// Pops every element from the head, as the server expires a deadline list.
std::vector<int> drain(List& list) {
  std::vector<int> out;
  while (ListLink* link = list.front()) {
    out.push_back(static_cast<Item*>(link)->value);
    link->unlink();
    if (out.size() > 100) break;  // a broken list must not loop forever
  }
  return out;
}

TEST(List, StartsEmpty) {
  List list;
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.front(), nullptr);
  Item a(1);
  EXPECT_FALSE(a.linked());
}

TEST(List, PushBackKeepsInsertionOrder) {
  List list;
  Item a(1), b(2), c(3);
  list.push_back(a);
  list.push_back(b);
  list.push_back(c);
  EXPECT_FALSE(list.empty());
  EXPECT_EQ(list.front(), &a);
  EXPECT_TRUE(a.linked() && b.linked() && c.linked());
  EXPECT_EQ(drain(list), (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(list.empty());
  EXPECT_FALSE(a.linked() || b.linked() || c.linked());
}

TEST(List, UnlinkRemovesAnElementFromAnywhereAndIsHarmlessTwice) {
  List list;
  Item a(1), b(2), c(3), d(4);
  for (Item* i : {&a, &b, &c, &d}) list.push_back(*i);
  b.unlink();
  EXPECT_FALSE(b.linked());
  b.unlink();  // again: nothing happens
  d.unlink();  // the tail
  a.unlink();  // the head
  EXPECT_EQ(list.front(), &c);
  EXPECT_EQ(drain(list), (std::vector<int>{3}));
  Item never(5);
  never.unlink();  // never linked: nothing happens
  EXPECT_FALSE(never.linked());
}

TEST(List, PushingALinkedElementAgainMovesItToTheTail) {
  List list;
  Item a(1), b(2), c(3);
  for (Item* i : {&a, &b, &c}) list.push_back(*i);
  list.push_back(a);
  list.push_back(b);
  list.push_back(b);  // already the tail: stays there, once
  EXPECT_EQ(drain(list), (std::vector<int>{3, 1, 2}));
}

TEST(List, PushingIntoAnotherListMovesTheElementOutOfTheFirst) {
  List reading, idle;
  Item a(1), b(2);
  reading.push_back(a);
  reading.push_back(b);
  idle.push_back(a);
  EXPECT_EQ(drain(reading), (std::vector<int>{2}));
  EXPECT_EQ(drain(idle), (std::vector<int>{1}));
}

TEST(List, AnElementCanBeReusedAfterTheListEmpties) {
  List list;
  Item a(1);
  for (int round = 0; round < 3; ++round) {
    list.push_back(a);
    EXPECT_EQ(drain(list), (std::vector<int>{1}));
  }
}

}  // namespace
}  // namespace hs

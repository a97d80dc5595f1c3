// Traffic accounting: method labels, status classes, the duration histogram's buckets, and the
// ResponseTimer's grouping of responses by the read that completed their requests.
#include "traffic.hpp"

#include <gtest/gtest.h>

namespace hs {
namespace {

constexpr uint64_t kMs = 1'000'000;  // nanoseconds

uint64_t bucket_of(const TrafficStats& t, uint64_t bound_us) {
  for (size_t i = 0; i < std::size(TrafficStats::kDurationBoundsUs); ++i)
    if (TrafficStats::kDurationBoundsUs[i] == bound_us) return t.duration_buckets[i];
  return ~0ull;
}

TEST(Traffic, LabelsTheSevenCommonMethodsExactlyAndEverythingElseOther) {
  EXPECT_EQ(method_label("GET"), TrafficStats::kGet);
  EXPECT_EQ(method_label("HEAD"), TrafficStats::kHead);
  EXPECT_EQ(method_label("POST"), TrafficStats::kPost);
  EXPECT_EQ(method_label("PUT"), TrafficStats::kPut);
  EXPECT_EQ(method_label("DELETE"), TrafficStats::kDelete);
  EXPECT_EQ(method_label("OPTIONS"), TrafficStats::kOptions);
  EXPECT_EQ(method_label("PATCH"), TrafficStats::kPatch);
  for (const char* m : {"get", "GE", "", "PROPFIND", "CONNECT", "TRACE", "POSTS"})
    EXPECT_EQ(method_label(m), TrafficStats::kOtherMethod) << m;
}

TEST(Traffic, CountsStatusClassesWithOutOfRangeStatusesAtTheEnds) {
  TrafficStats t;
  count_response(t, "GET", 101);
  count_response(t, "GET", 204);
  count_response(t, "GET", 200);
  count_response(t, "GETX", 200);
  count_response(t, "POST", 302);
  count_response(t, "GET", 404);
  count_response(t, "GET", 431);
  count_response(t, "BREW", 501);
  count_response(t, "GET", 999);
  EXPECT_EQ(t.responses[TrafficStats::kGet][0], 1u);
  EXPECT_EQ(t.responses[TrafficStats::kGet][1], 2u);
  EXPECT_EQ(t.responses[TrafficStats::kOtherMethod][1], 1u);
  EXPECT_EQ(t.responses[TrafficStats::kPost][2], 1u);
  EXPECT_EQ(t.responses[TrafficStats::kGet][3], 2u);
  EXPECT_EQ(t.responses[TrafficStats::kOtherMethod][4], 1u);
  EXPECT_EQ(t.responses[TrafficStats::kGet][4], 1u);
}

TEST(Traffic, PutsADurationInTheFirstBucketWhoseBoundItDoesNotExceed) {
  TrafficStats t;
  observe_duration(t, 100'000, 1);       // exactly 100 us: le="0.0001"
  observe_duration(t, 100'001, 2);       // just past it
  observe_duration(t, 11'000 * kMs, 1);  // past 10 s: +Inf
  EXPECT_EQ(bucket_of(t, 100), 1u);
  EXPECT_EQ(bucket_of(t, 250), 2u);
  EXPECT_EQ(t.duration_buckets[TrafficStats::kDurationBuckets - 1], 1u);
  EXPECT_EQ(t.duration_count, 4u);
  EXPECT_EQ(t.duration_sum_ns, 100'000u + 2 * 100'001u + 11'000 * kMs);
}

TEST(Traffic, TimesTheResponsesOfOneReadFromThatReadToTheSendThatCompletesThem) {
  TrafficStats t;
  ResponseTimer timer;
  timer.read_at(10 * kMs);
  timer.answered(100);
  timer.answered(200);
  timer.answered(300);
  // One read's responses are timed together, to the send that takes the last of them.
  EXPECT_FALSE(timer.completes(100));
  EXPECT_TRUE(timer.completes(300));
  timer.sent(300, 12 * kMs, t);  // 2 ms
  EXPECT_EQ(t.duration_count, 3u);
  EXPECT_EQ(bucket_of(t, 2'500), 3u);
  EXPECT_FALSE(timer.completes(1'000'000));
}

TEST(Traffic, CompletesOnlyTheResponsesAPartialSendCovers) {
  TrafficStats t;
  ResponseTimer timer;
  timer.read_at(0);
  timer.answered(100);
  timer.read_at(1 * kMs);
  timer.answered(200);
  timer.sent(150, 3 * kMs, t);  // the first read's response: 3 ms
  EXPECT_EQ(t.duration_count, 1u);
  EXPECT_EQ(bucket_of(t, 5'000), 1u);
  timer.sent(200, 4 * kMs, t);  // the second's: 3 ms too
  EXPECT_EQ(t.duration_count, 2u);
  EXPECT_EQ(bucket_of(t, 5'000), 2u);
}

TEST(Traffic, JoinsAThirdReadsResponsesToTheSecondGroup) {
  TrafficStats t;
  ResponseTimer timer;
  timer.read_at(0);
  timer.answered(100);
  timer.read_at(1 * kMs);
  timer.answered(200);
  timer.read_at(2 * kMs);
  timer.answered(300);  // timed from the second read
  timer.sent(300, 11 * kMs, t);
  EXPECT_EQ(t.duration_count, 3u);
  EXPECT_EQ(bucket_of(t, 25'000), 1u);  // 11 ms
  EXPECT_EQ(bucket_of(t, 10'000), 2u);  // 10 ms, 10 ms: the bound is inclusive
  EXPECT_EQ(t.duration_sum_ns, 31 * kMs);
}

TEST(Traffic, TimesAStreamToItsEnd) {
  TrafficStats t;
  ResponseTimer timer;
  timer.read_at(0);
  timer.answered(ResponseTimer::kOpen);
  EXPECT_FALSE(timer.completes(1'000'000));
  timer.ended(5'000);
  EXPECT_TRUE(timer.completes(5'000));
  timer.sent(5'000, 600 * kMs, t);
  EXPECT_EQ(bucket_of(t, 1'000'000), 1u);
}

TEST(Traffic, ForgetsResponsesThatNeverLeft) {
  TrafficStats t;
  ResponseTimer timer;
  timer.read_at(0);
  timer.answered(100);
  timer.forget();
  EXPECT_FALSE(timer.completes(100));
  timer.sent(100, kMs, t);
  EXPECT_EQ(t.duration_count, 0u);
}

}  // namespace
}  // namespace hs

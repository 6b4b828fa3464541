#pragma once
// LatencyHistogram: a fixed-size log-linear histogram of durations in nanoseconds (HdrHistogram's idea):
// 8 sub-buckets per power of two, so any percentile is within 12.5% of the true value. Values from 1 ns to
// 2^42 ns (~73 min); larger values land in the last bucket. Not thread-safe; copy it to take a snapshot.

#include <array>
#include <cstdint>

namespace depot {

class LatencyHistogram {
public:
    void record(uint64_t nanoseconds);
    void merge(const LatencyHistogram& other);
    void reset();

    uint64_t count() const { return m_count; }
    uint64_t min() const { return m_count ? m_min : 0; }
    uint64_t max() const { return m_max; }
    double mean() const { return m_count ? double(m_sum) / double(m_count) : 0.0; }
    // The value at percentile p (0..100): the upper bound of the bucket holding it, clamped to max(). 0 if empty.
    uint64_t percentile(double p) const;

    // The samples in one bucket (0 for an index outside 0..kBucketCount-1).
    uint64_t bucketCount(int bucket) const;
    // Adds `count` samples known only by their bucket (rebuilding a histogram from its buckets, e.g. from JSON):
    // for min(), max() and mean() each counts as the smallest value of the bucket. An index outside the range is
    // ignored.
    void recordBucket(int bucket, uint64_t count);

    static constexpr int kSubBucketBits = 3;
    static constexpr int kBucketCount = (42 + 1) << kSubBucketBits;
    static int bucketOf(uint64_t value);
    static uint64_t bucketUpperBound(int bucket);
    static uint64_t bucketLowerBound(int bucket);  // the smallest value of the bucket (above its upper bound if none)

private:
    std::array<uint64_t, kBucketCount> m_buckets{};
    uint64_t m_count = 0;
    uint64_t m_sum = 0;
    uint64_t m_min = UINT64_MAX;
    uint64_t m_max = 0;
};

}  // namespace depot

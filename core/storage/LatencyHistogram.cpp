#include "depot/LatencyHistogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace depot {
namespace {

constexpr int kSubBuckets = 1 << LatencyHistogram::kSubBucketBits;
constexpr int kMaxExponent = LatencyHistogram::kBucketCount / kSubBuckets - 1;
// The first value past the last power of two the histogram resolves; it and everything above share the last bucket.
constexpr uint64_t kOverflowThreshold = uint64_t(1) << (kMaxExponent + 1);

}  // namespace

// Bucket = exponent * 8 + the three bits below the leading one. Below 8 some buckets of each power of two stay
// empty (there are fewer than 8 integers in it); wasting them keeps the index a pure function of the bit pattern.
int LatencyHistogram::bucketOf(uint64_t value) {
    if (value == 0)
        return 0;
    if (value >= kOverflowThreshold)
        return kBucketCount - 1;
    int exponent = std::bit_width(value) - 1;
    int sub = int(((value << kSubBucketBits) >> exponent) & (kSubBuckets - 1));
    return (exponent << kSubBucketBits) + sub;
}

// The largest value v with bucketOf(v) == bucket: v * 8 < (9 + sub) * 2^exponent, so v = ceil(that / 8) - 1.
// The last bucket also holds the clamped overflow, so it is unbounded (percentile() then reports max()).
uint64_t LatencyHistogram::bucketUpperBound(int bucket) {
    if (bucket < 0)
        return 0;
    if (bucket >= kBucketCount - 1)
        return UINT64_MAX;
    int exponent = bucket >> kSubBucketBits;
    uint64_t sub = uint64_t(bucket & (kSubBuckets - 1));
    uint64_t nextLowerBoundTimesEight = (kSubBuckets + 1 + sub) << exponent;
    return (nextLowerBoundTimesEight + kSubBuckets - 1) / kSubBuckets - 1;
}

// Buckets below 8 that no integer maps to have a lower bound past their upper bound.
uint64_t LatencyHistogram::bucketLowerBound(int bucket) {
    if (bucket <= 0)
        return 0;
    return bucketUpperBound(std::min(bucket, kBucketCount - 1) - 1) + 1;
}

uint64_t LatencyHistogram::bucketCount(int bucket) const {
    return bucket >= 0 && bucket < kBucketCount ? m_buckets[size_t(bucket)] : 0;
}

void LatencyHistogram::recordBucket(int bucket, uint64_t count) {
    if (bucket < 0 || bucket >= kBucketCount || count == 0)
        return;
    uint64_t value = bucketLowerBound(bucket);
    m_buckets[size_t(bucket)] += count;
    m_count += count;
    uint64_t added = 0;
    if (__builtin_mul_overflow(value, count, &added) || __builtin_add_overflow(m_sum, added, &m_sum))
        m_sum = UINT64_MAX;
    m_min = std::min(m_min, value);
    m_max = std::max(m_max, value);
}

void LatencyHistogram::record(uint64_t nanoseconds) {
    ++m_buckets[size_t(bucketOf(nanoseconds))];
    ++m_count;
    // Saturate rather than wrap: a single absurd value must not make mean() small.
    if (__builtin_add_overflow(m_sum, nanoseconds, &m_sum))
        m_sum = UINT64_MAX;
    m_min = std::min(m_min, nanoseconds);
    m_max = std::max(m_max, nanoseconds);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < m_buckets.size(); ++i)
        m_buckets[i] += other.m_buckets[i];
    m_count += other.m_count;
    if (__builtin_add_overflow(m_sum, other.m_sum, &m_sum))
        m_sum = UINT64_MAX;
    m_min = std::min(m_min, other.m_min);
    m_max = std::max(m_max, other.m_max);
}

void LatencyHistogram::reset() { *this = LatencyHistogram{}; }

uint64_t LatencyHistogram::percentile(double p) const {
    if (m_count == 0)
        return 0;
    p = std::clamp(std::isnan(p) ? 0.0 : p, 0.0, 100.0);
    // The rank of the sample at p: ceil(p% of count), but at least the first sample.
    auto rank = uint64_t(std::ceil(p / 100.0 * double(m_count)));
    rank = std::clamp<uint64_t>(rank, 1, m_count);
    uint64_t seen = 0;
    for (int bucket = 0; bucket < kBucketCount; ++bucket) {
        seen += m_buckets[size_t(bucket)];
        if (seen >= rank)
            return std::min(bucketUpperBound(bucket), m_max);
    }
    return m_max;
}

}  // namespace depot

// How long fetches took: their percentiles for the closing report, counts in fixed buckets for
// the metrics file.
#ifndef ORCHESTRATOR_LATENCY_HISTOGRAM_H_
#define ORCHESTRATOR_LATENCY_HISTOGRAM_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace orchestrator {

/// Durations in seconds, with their count, sum, least and greatest value, kept two ways:
///   - for percentiles (Quantile): the first kExactValues values exactly, and every value in
///     log-linear buckets in HdrHistogram's manner (microseconds: one bucket per microsecond
///     below 128 us, then 64 equal buckets per power of two up to 2^33 us, about 2.4 hours);
///   - for the metrics file: counts in Prometheus's fixed buckets (kBounds, buckets()).
/// Every quantile lies within [min(), max()]. It is exact while count() <= kExactValues;
/// beyond, it is the middle of the bucket holding the value of its rank, within 1/128 (0.8%)
/// of that value for values from 64 us to 2^33 us (below 64 us, within 0.5 us; above
/// 2^33 us, only clamped to max()). Small while it holds few values, since one exists per
/// task type per worker (a run may have 100,000 types): sizeof is 224 bytes (g++ 12, x86-64),
/// plus 8 bytes a value up to kExactValues; past them, the fine buckets (16 KiB) instead of
/// the values. Two add up.
class LatencyHistogram {
 public:
  /// Upper bounds in seconds, 1-2.5-5 a decade from 1 ms to 50 s, then 100 s.
  static constexpr std::array<double, 17> kBounds = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250};
  /// Up to this many values, quantiles are exact.
  static constexpr std::size_t kExactValues = 256;

  void Add(double seconds);
  void Add(const LatencyHistogram& other);

  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double min() const { return min_; }
  double max() const { return max_; }
  /// Durations at most kBounds[i]: not cumulative; buckets()[kBounds.size()] is the rest.
  const std::array<std::uint64_t, kBounds.size() + 1>& buckets() const { return buckets_; }

  /// The q-quantile (0 < q <= 1): the value of rank ceil(q * count()) (at least 1) in
  /// ascending order, exactly or within the bound above. 0 when empty.
  double Quantile(double q) const;

 private:
  static constexpr std::size_t kLinear = 128;    // one bucket per microsecond below this
  static constexpr std::size_t kPerOctave = 64;  // buckets per power of two above it
  static constexpr std::size_t kOctaves = 26;    // 2^7 us to 2^33 us
  static constexpr std::size_t kFineBuckets = kLinear + kOctaves * kPerOctave;

  static std::size_t FineBucketOf(double seconds);
  static double MiddleOf(std::size_t fine_bucket);
  void ToFineBuckets();

  std::array<std::uint64_t, kBounds.size() + 1> buckets_{};
  // Either the values (while count_ <= kExactValues) or kFineBuckets counts (after), never
  // both: the other is empty.
  std::vector<double> first_;
  std::vector<std::uint64_t> fine_;
  std::uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_LATENCY_HISTOGRAM_H_

// How long fetches took: counts in fixed buckets, for metrics and the closing report.
#ifndef ORCHESTRATOR_LATENCY_HISTOGRAM_H_
#define ORCHESTRATOR_LATENCY_HISTOGRAM_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace orchestrator {

/// Durations counted in fixed buckets (Prometheus's convention: bucket i counts the
/// durations at most kBounds[i] seconds, and one more bucket those above the last bound),
/// with their sum and greatest value. A few hundred bytes whatever the count; two add up.
class LatencyHistogram {
 public:
  /// Upper bounds in seconds, 1-2.5-5 a decade from 1 ms to 50 s, then 100 s.
  static constexpr std::array<double, 17> kBounds = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250};

  void Add(double seconds);
  void Add(const LatencyHistogram& other);

  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double max() const { return max_; }
  /// Durations at most kBounds[i]: not cumulative; buckets()[kBounds.size()] is the rest.
  const std::array<std::uint64_t, kBounds.size() + 1>& buckets() const { return buckets_; }

  /// The q-quantile (0 < q <= 1) estimated from the buckets: linear within the bucket that
  /// holds it, never above max(). 0 when empty.
  double Quantile(double q) const;

 private:
  std::array<std::uint64_t, kBounds.size() + 1> buckets_{};
  std::uint64_t count_ = 0;
  double sum_ = 0;
  double max_ = 0;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_LATENCY_HISTOGRAM_H_

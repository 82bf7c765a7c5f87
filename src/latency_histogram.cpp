#include "orchestrator/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace orchestrator {

void LatencyHistogram::Add(double seconds) {
  seconds = std::max(0.0, seconds);
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(kBounds.begin(), kBounds.end(), seconds) - kBounds.begin());
  ++buckets_[bucket];
  ++count_;
  sum_ += seconds;
  max_ = std::max(max_, seconds);
}

void LatencyHistogram::Add(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

double LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  // The rank of the quantile, 1-based: the smallest value with at least q of the count at
  // or below it.
  const double rank = std::max(1.0, std::ceil(q * static_cast<double>(count_)));
  std::uint64_t below = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    if (buckets_[i] == 0 || static_cast<double>(below + buckets_[i]) < rank) {
      below += buckets_[i];
      continue;
    }
    const double lower = i == 0 ? 0.0 : kBounds[i - 1];
    const double upper = i < kBounds.size() ? std::min(kBounds[i], max_) : max_;
    const double within = (rank - static_cast<double>(below)) / static_cast<double>(buckets_[i]);
    return std::min(max_, lower + (std::max(upper, lower) - lower) * within);
  }
  return max_;
}

}  // namespace orchestrator

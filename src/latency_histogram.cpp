#include "orchestrator/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace orchestrator {

std::size_t LatencyHistogram::FineBucketOf(double seconds) {
  constexpr double kTop = static_cast<double>(std::uint64_t{1} << (7 + kOctaves)) - 1;
  const auto micros = static_cast<std::uint64_t>(std::min(seconds * 1e6, kTop));
  if (micros < kLinear) return static_cast<std::size_t>(micros);
  const int octave = std::bit_width(micros) - 1;  // 7 to 32: micros in [2^octave, 2^(octave+1))
  const int shift = octave - 6;                   // 64 buckets of 2^shift us in the octave
  const std::uint64_t sub = (micros >> shift) - kPerOctave;
  return kLinear + static_cast<std::size_t>(octave - 7) * kPerOctave +
         static_cast<std::size_t>(sub);
}

double LatencyHistogram::MiddleOf(std::size_t fine_bucket) {
  if (fine_bucket < kLinear) return (static_cast<double>(fine_bucket) + 0.5) / 1e6;
  const std::size_t above = fine_bucket - kLinear;
  const int shift = static_cast<int>(above / kPerOctave) + 1;
  const double width = std::ldexp(1.0, shift);
  const double lower = static_cast<double>(kPerOctave + above % kPerOctave) * width;
  return (lower + width / 2) / 1e6;
}

void LatencyHistogram::Add(double seconds) {
  seconds = std::max(0.0, seconds);
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(kBounds.begin(), kBounds.end(), seconds) - kBounds.begin());
  ++buckets_[bucket];
  if (count_ < kExactValues) {
    first_.push_back(seconds);
  } else {
    if (fine_.empty()) ToFineBuckets();
    ++fine_[FineBucketOf(seconds)];
  }
  min_ = count_ == 0 ? seconds : std::min(min_, seconds);
  max_ = std::max(max_, seconds);
  ++count_;
  sum_ += seconds;
}

void LatencyHistogram::Add(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  if (count_ + other.count_ <= kExactValues) {
    first_.insert(first_.end(), other.first_.begin(), other.first_.end());
  } else {
    if (fine_.empty()) ToFineBuckets();
    if (other.fine_.empty()) {
      for (const double value : other.first_) ++fine_[FineBucketOf(value)];
    } else {
      for (std::size_t i = 0; i < fine_.size(); ++i) fine_[i] += other.fine_[i];
    }
  }
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

// Past kExactValues: the values kept so far go into the fine buckets, and are let go.
void LatencyHistogram::ToFineBuckets() {
  fine_.assign(kFineBuckets, 0);
  for (const double value : first_) ++fine_[FineBucketOf(value)];
  first_ = {};
}

double LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  // The rank of the quantile, 1-based: the smallest value with at least q of the count at
  // or below it.
  const auto rank = static_cast<std::uint64_t>(
      std::clamp(std::ceil(q * static_cast<double>(count_)), 1.0, static_cast<double>(count_)));
  if (count_ <= kExactValues) {
    std::array<double, kExactValues> values;
    std::copy(first_.begin(), first_.end(), values.begin());
    const auto end = values.begin() + static_cast<long>(count_);
    const auto at = values.begin() + static_cast<long>(rank - 1);
    std::nth_element(values.begin(), at, end);
    return *at;
  }
  std::uint64_t below = 0;
  for (std::size_t i = 0; i < fine_.size(); ++i) {
    below += fine_[i];
    if (below >= rank) return std::clamp(MiddleOf(i), min_, max_);
  }
  return max_;
}

}  // namespace orchestrator

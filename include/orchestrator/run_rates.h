// The rates of a run, one schedule each for the whole process.
#ifndef ORCHESTRATOR_RUN_RATES_H_
#define ORCHESTRATOR_RUN_RATES_H_

#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

#include "orchestrator/blueprint.h"
#include "orchestrator/rate_limiter.h"

namespace orchestrator {

/// --rate, and each blueprint's `rate` (the types a blueprint serves share it): one
/// RateLimiter each, which every worker's runner claims its starts from, so a rate is the
/// rate of the whole run at any thread count. It must outlive the runners.
class RunRates {
 public:
  /// `overall`: --rate, in starts a second (none: no limit). `blueprints[t]`: the blueprint
  /// of task type t.
  RunRates(std::optional<double> overall, const std::vector<const Blueprint*>& blueprints);
  RunRates(const RunRates&) = delete;
  RunRates& operator=(const RunRates&) = delete;

  /// --rate's limiter; null without.
  RateLimiter* overall() { return overall_ ? &*overall_ : nullptr; }
  /// The limiter of type `type`'s blueprint; null when it has no rate.
  RateLimiter* of_type(std::size_t type) const { return of_type_[type]; }

 private:
  std::optional<RateLimiter> overall_;
  std::deque<RateLimiter> of_blueprints_;  // a deque: the limiters never move
  std::vector<RateLimiter*> of_type_;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RUN_RATES_H_

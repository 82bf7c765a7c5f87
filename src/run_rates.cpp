#include "orchestrator/run_rates.h"

#include <algorithm>

namespace orchestrator {

RunRates::RunRates(std::optional<double> overall, const std::vector<const Blueprint*>& blueprints)
    : of_type_(blueprints.size(), nullptr) {
  if (overall) overall_.emplace(*overall);
  std::vector<const Blueprint*> rated;  // rated[k] has of_blueprints_[k]
  for (std::size_t type = 0; type < blueprints.size(); ++type) {
    const Blueprint* blueprint = blueprints[type];
    if (!blueprint->rate) continue;
    const auto found = std::find(rated.begin(), rated.end(), blueprint);
    if (found != rated.end()) {
      of_type_[type] = &of_blueprints_[static_cast<std::size_t>(found - rated.begin())];
      continue;
    }
    rated.push_back(blueprint);
    of_type_[type] = &of_blueprints_.emplace_back(*blueprint->rate);
  }
}

}  // namespace orchestrator

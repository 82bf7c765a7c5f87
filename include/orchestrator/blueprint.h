// What the runner does for each task: an ordered list of steps.
#ifndef ORCHESTRATOR_BLUEPRINT_H_
#define ORCHESTRATOR_BLUEPRINT_H_

#include <string>
#include <variant>
#include <vector>

#include "orchestrator/duration.h"

namespace orchestrator {

/// An HTTP GET that must answer 2xx with its whole body.
struct FetchStep {
  std::string url;
  Duration timeout{10'000};          ///< Limits each attempt as a whole, body included.
  Duration connect_timeout{10'000};  ///< Limits the connect phase of each attempt.
};

/// A pause. The task holds no connection and no fetch slot while it waits.
struct DelayStep {
  Duration duration{5'000};
};

/// One line on stderr naming the task.
struct EmitStep {};

struct Step {
  std::string name;  ///< As the blueprint calls it: "fetch_data", "long_delay"...
  std::variant<FetchStep, DelayStep, EmitStep> action;
};

/// The steps every task goes through, in order. A failed step ends the task.
struct Blueprint {
  std::vector<Step> steps;
};

/// The seeds' blueprint: fetch_data (GET url), long_delay, emit_event.
Blueprint DefaultBlueprint(FetchStep fetch, Duration delay);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_BLUEPRINT_H_

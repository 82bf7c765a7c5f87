#include "orchestrator/blueprint.h"

namespace orchestrator {

Blueprint DefaultBlueprint(FetchStep fetch, Duration delay) {
  Blueprint blueprint;
  blueprint.steps.push_back({"fetch_data", std::move(fetch)});
  blueprint.steps.push_back({"long_delay", DelayStep{delay}});
  blueprint.steps.push_back({"emit_event", EmitStep{}});
  return blueprint;
}

}  // namespace orchestrator

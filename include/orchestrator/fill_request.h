// A fetch step's request, filled in for one task as it is about to be sent.
#ifndef ORCHESTRATOR_FILL_REQUEST_H_
#define ORCHESTRATOR_FILL_REQUEST_H_

#include <cstddef>
#include <functional>
#include <string>

#include "orchestrator/blueprint.h"
#include "orchestrator/http_client.h"
#include "orchestrator/task_values.h"

namespace orchestrator {

/// Fills `request` in from `step` with the task's `values`: URL, headers and body expanded,
/// the step's settings copied. Returns false, with `error` saying why, when a value cannot go
/// where the step puts it, or the URL takes its shape from the row (`{base:raw}/items`) and,
/// filled in, is not an http or https URL. The values go by reference (std::cref): a
/// std::function holds that without allocating, once per template and request.
bool FillRequest(const FetchStep& step, const TaskValues& values, FetchRequest& request,
                 std::string& error);

/// The same, with the values from anywhere: --dry-run's, which stand in for the values only a
/// run has.
bool FillRequest(const FetchStep& step, const std::function<TemplateValue(std::size_t)>& values,
                 FetchRequest& request, std::string& error);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_FILL_REQUEST_H_

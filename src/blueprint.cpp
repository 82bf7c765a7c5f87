#include "orchestrator/blueprint.h"

#include <stdexcept>
#include <utility>

namespace orchestrator {

std::optional<std::size_t> SlotOf(const Blueprint& blueprint, std::string_view name) {
  if (name == "task_id") return kTaskIdSlot;
  if (name == "task_type") return kTaskTypeSlot;
  for (std::size_t k = 0; k < blueprint.columns.size(); ++k) {
    if (blueprint.columns[k].name == name) return kFirstColumnSlot + k;
  }
  return std::nullopt;
}

std::variant<Template, Template::Error> ParseUrlTemplate(std::string_view url) {
  return Template::Parse(url, TemplateContext::kUrl,
                         [](std::string_view name) -> std::optional<std::size_t> {
                           if (name == "task_id") return kTaskIdSlot;
                           if (name == "task_type") return kTaskTypeSlot;
                           return std::nullopt;
                         });
}

FetchStep GetOf(std::string_view url) {
  auto parsed = ParseUrlTemplate(url);
  if (const auto* error = std::get_if<Template::Error>(&parsed)) {
    throw std::invalid_argument(error->message);
  }
  FetchStep fetch;
  fetch.url = std::get<Template>(std::move(parsed));
  return fetch;
}

Blueprint DefaultBlueprint(FetchStep fetch, Duration delay) {
  Blueprint blueprint;
  blueprint.name = std::string(1, '*');  // not = "*": GCC 12 warns falsely (-Wrestrict, PR105329)
  blueprint.steps.push_back({"fetch_data", std::move(fetch)});
  blueprint.steps.push_back({"long_delay", DelayStep{delay, std::nullopt}});
  blueprint.steps.push_back({"emit_event", EmitStep{}});
  return blueprint;
}

}  // namespace orchestrator

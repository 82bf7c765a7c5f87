#include "orchestrator/dependency_values.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <utility>

#include "orchestrator/result_jsonl.h"

namespace orchestrator {

void DependencyValues::Add(TaskIndex child, std::uint32_t rank, TaskId parent,
                           CapturedValues values) {
  std::vector<Entry>& entries = by_child_[child];
  const auto at =
      std::upper_bound(entries.begin(), entries.end(), std::make_pair(rank, parent),
                       [](const std::pair<std::uint32_t, TaskId>& key, const Entry& e) {
                         return key.first != e.rank ? key.first < e.rank : key.second < e.parent;
                       });
  entries.insert(at, Entry{rank, parent, std::move(values)});
}

std::optional<std::string_view> DependencyValues::One(TaskIndex child, std::size_t column,
                                                      std::string_view name,
                                                      std::string& problem) const {
  std::optional<std::string_view> found;
  std::vector<TaskId> holders;
  if (const auto it = by_child_.find(child); it != by_child_.end()) {
    for (const Entry& entry : it->second) {
      const std::optional<std::string_view> value = entry.values.Find(column);
      if (!value) continue;
      found = value;
      holders.push_back(entry.parent);
    }
  }
  if (holders.size() == 1) return found;
  if (holders.empty()) {
    problem = fmt::format("dep.{}: no dependency captured {}", name, name);
  } else {
    problem =
        fmt::format("dep.{}: {} dependencies captured {} ({}{}); {{deps.{}:json}} lists every one",
                    name, holders.size(), name,
                    fmt::join(holders.begin(),
                              holders.begin() + std::min<std::size_t>(holders.size(), 5), ", "),
                    holders.size() > 5 ? ", ..." : "", name);
  }
  return std::nullopt;
}

void DependencyValues::AppendAll(std::string& out, TaskIndex child, std::size_t column) const {
  out += '[';
  if (const auto it = by_child_.find(child); it != by_child_.end()) {
    bool first = true;
    for (const Entry& entry : it->second) {
      if (!first) out += ',';
      first = false;
      const std::optional<CapturedValue> value = entry.values.FindValue(column);
      if (value) {
        AppendCapturedJson(out, *value);
      } else {
        out += "null";
      }
    }
  }
  out += ']';
}

}  // namespace orchestrator

#include "orchestrator/dry_run.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "orchestrator/curl_outcome.h"
#include "orchestrator/duration.h"
#include "orchestrator/fill_request.h"
#include "orchestrator/input_error.h"
#include "orchestrator/overloaded.h"
#include "orchestrator/secrets.h"
#include "orchestrator/task_values.h"
#include "orchestrator/text.h"
#include "orchestrator/url.h"

namespace orchestrator {
namespace {

constexpr std::size_t kFlushAt = 64 * 1024;

std::string Safe(std::string_view text) { return TerminalSafe(text, UnsafeShownAs::kQuestionMark); }

// The stand-ins for the values only the run has, one of each kind per capture column.
class RunValues {
 public:
  explicit RunValues(std::span<const std::string> names) : names_(names) {
    for (const std::string& name : names) {
      captured_.push_back(RunValuePlaceholder("", name));
      one_.push_back(RunValuePlaceholder("dep.", name));
      all_.push_back(RunValuePlaceholder("deps.", name));
    }
  }

  // The stand-in for `slot`, one of kFirstCaptureSlot and on.
  TemplateValue Of(std::size_t slot) const {
    if (slot >= kFirstDependenciesSlot)
      return {ColumnType::kJson, all_.at(slot - kFirstDependenciesSlot)};
    if (slot >= kFirstDependencySlot)
      return {ColumnType::kString, one_.at(slot - kFirstDependencySlot)};
    return {ColumnType::kString, captured_.at(slot - kFirstCaptureSlot)};
  }

  // The placeholder as a template writes it: {NAME}, {dep.NAME}, {deps.NAME}.
  std::string NameOf(std::size_t slot) const {
    if (slot >= kFirstDependenciesSlot)
      return "{deps." + names_[slot - kFirstDependenciesSlot] + "}";
    if (slot >= kFirstDependencySlot) return "{dep." + names_[slot - kFirstDependencySlot] + "}";
    return "{" + names_[slot - kFirstCaptureSlot] + "}";
  }

  std::string_view ShownAs(std::size_t slot) const { return Of(slot).text; }

 private:
  std::span<const std::string> names_;
  std::vector<std::string> captured_, one_, all_;
};

// A task's values as the run has them when the task starts: its row's, and the stand-ins for
// what only the run has, each slot of those noted in `used`.
class DryRunValues {
 public:
  /// `dependencies_known`: `row` has the task's dependencies' values (its parents were all
  /// carried over).
  DryRunValues(const TaskValues& row, const RunValues& run, std::vector<std::size_t>& used,
               bool dependencies_known)
      : row_(row), run_(run), used_(used), dependencies_known_(dependencies_known) {}

  TemplateValue operator()(std::size_t slot) const {
    if (slot < kFirstCaptureSlot) return row_(slot);
    if (slot >= kFirstDependencySlot && dependencies_known_) return row_(slot);
    if (std::find(used_.begin(), used_.end(), slot) == used_.end()) used_.push_back(slot);
    return run_.Of(slot);
  }

 private:
  const TaskValues& row_;
  const RunValues& run_;
  std::vector<std::size_t>& used_;
  bool dependencies_known_;
};

// `text` with each of `secrets` (longest first) shown as ***.
std::string Mask(std::string_view text, std::span<const std::string> secrets) {
  std::string masked;
  for (std::size_t i = 0; i < text.size();) {
    const std::string_view rest = text.substr(i);
    std::size_t size = 0;
    for (const std::string& secret : secrets) {
      if (!secret.empty() && rest.starts_with(secret)) {
        size = secret.size();
        break;
      }
    }
    if (size > 0) {
      masked += "***";
      i += size;
    } else {
      masked += text[i++];
    }
  }
  return masked;
}

// The request as messages show it: header values (each piece) and the URL's password as ***.
void MaskRequest(FetchRequest& request) {
  std::vector<std::string_view> values;
  for (const auto& header : request.headers) values.push_back(header.second);
  const std::vector<std::string> secrets = HeaderSecrets(values, HeaderValues::kSent);
  // Only a URL with user information has a password (parsing each URL costs).
  if (request.url.find('@') != std::string::npos) request.url = RedactUrl(request.url);
  request.url = Mask(request.url, secrets);
  for (auto& header : request.headers) header.second = Mask(header.second, secrets);
  if (request.body) *request.body = Mask(*request.body, secrets);
}

class Printer {
 public:
  Printer(const DryRunPlan& plan, const std::function<bool(std::string_view)>& write)
      : plan_(plan), tasks_(*plan.tasks), write_(write), run_values_(plan.capture_columns) {}

  DryRunCounts Print() {
    Head();
    for (const TaskId id : plan_.carried) {
      if (!ok_) break;
      out_ += fmt::format("# task {}: carried over from {}\n", id, Safe(plan_.resume_path));
      Flush(false);
    }
    InOrder([this](TaskIndex index) { PrintTask(index); });
    Flush(true);
    return counts_;
  }

 private:
  void Head() {
    std::vector<std::string> notes;
    if (!plan_.carried.empty()) {
      notes.push_back(
          fmt::format("{} carried over from {}", plan_.carried.size(), Safe(plan_.resume_path)));
    }
    if (plan_.duplicates > 0) {
      notes.push_back(fmt::format("{} duplicate row{} skipped", plan_.duplicates,
                                  plan_.duplicates == 1 ? "" : "s"));
    }
    const std::size_t count = tasks_.tasks.size();
    out_ += fmt::format("# orchestrator --dry-run: {} task{} would run{}; nothing is sent\n", count,
                        count == 1 ? "" : "s",
                        notes.empty() ? "" : fmt::format(" ({})", fmt::join(notes, ", ")));
    if (!plan_.unmasked) {
      out_ += "# header values and URL passwords show as ***; --dry-run=unmasked shows them\n";
    }
  }

  // Calls `f` with each task's index, each after its parents: among the tasks whose parents
  // have all been given, the first in the input. 4 bytes a task for the counts and at most as
  // many for the tasks ready; nothing without dependencies.
  template <typename F>
  void InOrder(F&& f) {
    const std::size_t count = tasks_.tasks.size();
    const TaskGraph& graph = tasks_.graph;
    if (graph.empty()) {
      for (std::size_t i = 0; i < count && ok_; ++i) f(static_cast<TaskIndex>(i));
      return;
    }
    std::vector<std::uint32_t> parents_left(count);
    std::priority_queue<TaskIndex, std::vector<TaskIndex>, std::greater<>> ready;
    for (std::size_t i = 0; i < count; ++i) {
      parents_left[i] = graph.ParentCount(static_cast<TaskIndex>(i));
      if (parents_left[i] == 0) ready.push(static_cast<TaskIndex>(i));
    }
    while (!ready.empty() && ok_) {
      const TaskIndex index = ready.top();
      ready.pop();
      f(index);
      graph.ForEachChild(index, [&](const Dependent& dependent) {
        if (--parents_left[dependent.child] == 0) ready.push(dependent.child);
      });
    }
  }

  void PrintTask(TaskIndex index) {
    ++counts_.tasks;
    const Task& task = tasks_.tasks[index];
    const Blueprint& blueprint = *plan_.blueprints[task.type];
    const std::string who = fmt::format("# task {} ({})", task.id, Safe(tasks_.TypeName(task)));
    // A task whose parents were all carried over has their values now, as the run gives them.
    std::optional<DependencyValues> known;
    if (blueprint.uses_dependency_values && tasks_.graph.ParentCount(index) == 0) {
      known.emplace();
      if (plan_.carried_values != nullptr) {
        if (const auto found = plan_.carried_values->find(task.id);
            found != plan_.carried_values->end()) {
          for (const CarriedParent& carried : found->second) {
            known->Add(index, carried.rank, carried.parent, carried.values);
          }
        }
      }
      std::string problem;
      for (const Blueprint::DependencyColumn& used : blueprint.dependency_columns) {
        if (!known->One(index, used.column, used.name, problem)) {
          ++counts_.failing;
          out_ +=
              fmt::format("{}: the run would fail it before it starts: {}\n", who, Safe(problem));
          Flush(false);
          return;
        }
      }
    }
    const TaskValues row(tasks_, task, blueprint, nullptr, index, known ? &*known : nullptr);
    dependencies_known_ = known.has_value();
    const std::size_t steps = blueprint.steps.size();
    for (std::size_t s = 0; s < steps; ++s) {
      const Step& step = blueprint.steps[s];
      const std::string where =
          fmt::format("{}, step {}/{} {}", who, s + 1, steps, Safe(step.name));
      const bool goes_on = std::visit(
          Overloaded{[&](const FetchStep& fetch) { return PrintFetch(where, fetch, row); },
                     [&](const DelayStep& delay) {
                       Duration duration = delay.duration;
                       if (delay.column) {
                         duration = ParseDuration(row(*delay.column).text).value_or(Duration(0));
                       }
                       out_ += fmt::format("{}: wait {}\n", where, FormatDuration(duration));
                       return true;
                     },
                     [&](const EmitStep& emit) { return PrintEmit(where, emit, row); }},
          step.action);
      Flush(false);
      if (!goes_on) break;
    }
    const std::size_t hooks =
        blueprint.on_start.size() + blueprint.on_success.size() + blueprint.on_failure.size();
    if (hooks > 0) {
      out_ += fmt::format(
          "{}: and its webhooks ({} on start, {} on success, {} on failure), not shown: their "
          "body is the run's record of the task\n",
          who, blueprint.on_start.size(), blueprint.on_success.size(), blueprint.on_failure.size());
    }
    Flush(false);
  }

  // Returns whether the task would go on to its next step.
  bool PrintFetch(const std::string& where, const FetchStep& fetch, const TaskValues& row) {
    used_.clear();
    const DryRunValues values(row, run_values_, used_, dependencies_known_);
    std::string error;
    const bool filled = FillRequest(fetch, std::cref(values), request_, error);
    CurlCommand command;
    if (filled) {
      if (!plan_.unmasked) MaskRequest(request_);
      command = CurlCommandOf(request_, plan_.curl);
      if (!command.problem.empty()) error = "could not start the request: " + command.problem;
      if (error.empty() && !request_.save_to.empty() && plan_.save_refused) {
        if (const std::optional<std::string> refused = plan_.save_refused(request_.save_to)) {
          error = SaveFailure(*refused);
        }
      }
    }
    if (!error.empty()) {
      if (!used_.empty()) {
        out_ += fmt::format("{}: fetch, not shown: {}, with a value only the run has ({})\n", where,
                            Safe(error), UsedNames());
        return true;
      }
      ++counts_.failing;
      out_ += fmt::format("{}: fetch; the run would fail the task here: {}\n", where, Safe(error));
      return false;
    }
    out_ += fmt::format("{}: fetch", where);
    if (!request_.save_to.empty())
      out_ += fmt::format(", the body saved to {}", Safe(request_.save_to));
    out_ += '\n';
    if (!used_.empty()) {
      ++counts_.with_run_values;
      for (const std::size_t slot : used_) {
        out_ += fmt::format("# {} is a value only the run has: shown as {}\n",
                            run_values_.NameOf(slot), Safe(run_values_.ShownAs(slot)));
      }
    }
    ++counts_.requests;
    out_ += command.line;
    out_ += '\n';
    return true;
  }

  bool PrintEmit(const std::string& where, const EmitStep& emit, const TaskValues& row) {
    if (!emit.text) {
      out_ += fmt::format("{}: a line on stderr naming the task\n", where);
      return true;
    }
    used_.clear();
    const DryRunValues values(row, run_values_, used_, dependencies_known_);
    line_.clear();
    std::string error;
    if (!emit.text->ExpandTo(line_, std::cref(values), error)) {
      if (!used_.empty()) {
        out_ +=
            fmt::format("{}: a line on stderr, not shown: {}, with a value only the run has ({})\n",
                        where, Safe(error), UsedNames());
        return true;
      }
      ++counts_.failing;
      out_ += fmt::format("{}: emit; the run would fail the task here: {}\n", where, Safe(error));
      return false;
    }
    out_ += fmt::format("{}: a line on stderr: {}\n", where, Safe(line_));
    return true;
  }

  std::string UsedNames() const {
    std::vector<std::string> names;
    for (const std::size_t slot : used_) names.push_back(run_values_.NameOf(slot));
    return fmt::format("{}", fmt::join(names, ", "));
  }

  void Flush(bool always) {
    if (!ok_ || out_.empty() || (!always && out_.size() < kFlushAt)) return;
    ok_ = write_(out_);
    out_.clear();
  }

  const DryRunPlan& plan_;
  const TaskList& tasks_;
  const std::function<bool(std::string_view)>& write_;
  RunValues run_values_;
  DryRunCounts counts_;
  std::string out_;
  bool ok_ = true;
  // Reused from request to request.
  std::vector<std::size_t> used_;
  bool dependencies_known_ = false;  // of the task being printed
  FetchRequest request_;
  std::string line_;
};

}  // namespace

std::string RunValuePlaceholder(std::string_view prefix, std::string_view name) {
  const std::string text = fmt::format("__{}{}__", prefix, name);
  return prefix == "deps." ? fmt::format("[\"{}\"]", text) : text;
}

void CheckCouldWrite(const std::string& path, std::string_view contents) {
  if (path.empty()) return;
  auto cannot = [&](int error) {
    throw InputError(path, 0, fmt::format("cannot write {}: {}", contents, std::strerror(error)));
  };
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) throw InputError(path, 0, "is a directory, not a file");
    if (::access(path.c_str(), W_OK) != 0) cannot(errno);
    return;
  }
  if (errno != ENOENT) cannot(errno);
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const char* folder = parent.empty() ? "." : parent.c_str();
  if (::access(folder, W_OK | X_OK) != 0) cannot(errno);
}

DryRunCounts WriteDryRun(const DryRunPlan& plan,
                         const std::function<bool(std::string_view)>& write) {
  return Printer(plan, write).Print();
}

}  // namespace orchestrator

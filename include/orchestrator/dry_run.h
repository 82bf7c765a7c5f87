// --dry-run: what a run would send, printed as curl command lines, nothing sent (issue #27).
#ifndef ORCHESTRATOR_DRY_RUN_H_
#define ORCHESTRATOR_DRY_RUN_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/blueprint.h"
#include "orchestrator/curl_command.h"
#include "orchestrator/dependency_values.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// What a dry run prints from: the run's tasks as the run would start them (read, checked,
/// sharded, --resume's carried tasks taken out), and what it would start them with.
struct DryRunPlan {
  const TaskList* tasks = nullptr;
  /// Each task_type's blueprint, by TaskList::type_names index.
  std::span<const Blueprint* const> blueprints;
  /// The run's capture columns: the names of `{NAME}` and `{dep.NAME}` values.
  std::span<const std::string> capture_columns;
  /// The tasks --resume carries over, and the file they come from.
  std::span<const TaskId> carried;
  std::string resume_path;
  /// What the carried parents captured, for their children's {dep.NAME} (CarriedParentValuesOf);
  /// null when no template names a dependency's value.
  const CarriedParentValues* carried_values = nullptr;
  std::size_t duplicates = 0;
  CurlCommandSettings curl;
  /// --dry-run=unmasked: header values and URL passwords as they would be sent.
  bool unmasked = false;
  /// Why a body may not be saved at a path (RunFileGuard::Refusal), as the run would refuse
  /// it; empty: any path may be.
  std::function<std::optional<std::string>(const std::string& path)> save_refused;
};

/// How the printing went.
struct DryRunCounts {
  std::size_t tasks = 0;            ///< tasks that would run
  std::size_t requests = 0;         ///< curl lines printed
  std::size_t with_run_values = 0;  ///< of them, with a value only the run has
  std::size_t failing = 0;          ///< tasks whose request the run would refuse before sending it
};

/// The text a placeholder for a value only the run knows is shown as: `__NAME__` for what an
/// earlier step of the task captured (`{NAME}`), `__dep.NAME__` for a dependency's (`{dep.NAME}`)
/// and the JSON array `["__deps.NAME__"]` for `{deps.NAME}`. Made of characters no context
/// escapes, so it shows as is in a URL, a header and a body.
std::string RunValuePlaceholder(std::string_view prefix, std::string_view name);

/// Writes the dry run, as lines of shell, to `write` in pieces of at most about 64 KiB (memory
/// stays bounded whatever the number of tasks); stops when `write` returns false.
///
///   # orchestrator --dry-run: 3 tasks would run; nothing is sent
///   # task 5 (ingest): carried over from done.csv
///   # task 1 (ingest), step 1/3 fetch_data: fetch
///   curl --globoff ... --url 'https://api.example/items/1'
///   # task 1 (ingest), step 2/3 long_delay: wait 5s
///   # task 1 (ingest), step 3/3 emit_event: a line on stderr
///
/// Carried tasks first, then the tasks in an order their dependencies allow (input order when
/// they have none: among the tasks ready, the first in the input). A step whose request a run
/// could not fill in or would refuse (a value that cannot go where it goes) is a comment saying
/// so, and the task's later steps are not shown: the run would fail the task there. A request
/// with a value only the run knows (an earlier step's capture, a dependency's that is still to
/// run) shows it as RunValuePlaceholder says, after a comment naming it. A task whose every
/// parent is carried over has its dependencies' values from `carried_values`, as the run
/// does: they show as they are, or the task is said to fail before it starts, as the run
/// would fail it (`no dependency captured price`). Unless `unmasked`, header values (each
/// piece, as HeaderSecrets) and URL passwords show as ***, wherever they appear in the request.
/// Comments are terminal-safe (control characters as '?').
DryRunCounts WriteDryRun(const DryRunPlan& plan,
                         const std::function<bool(std::string_view)>& write);

/// Whether a run could create or write `path` (an output file: --output, --events, --metrics,
/// --report-file; "" is none), without creating or opening it: a file that exists must be
/// writable and not a folder, else its folder must be. Throws InputError as a run would when
/// it could not (`PATH: cannot write CONTENTS: No such file or directory`).
void CheckCouldWrite(const std::string& path, std::string_view contents);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_DRY_RUN_H_

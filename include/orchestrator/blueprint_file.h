// A blueprint file (--blueprints FILE): for each task_type, the steps its tasks go through,
// the typed columns its rows carry, and the webhooks that hear of its tasks.
#ifndef ORCHESTRATOR_BLUEPRINT_FILE_H_
#define ORCHESTRATOR_BLUEPRINT_FILE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/blueprint.h"
#include "orchestrator/duration.h"
#include "orchestrator/running_limit.h"
#include "orchestrator/task_reader.h"

namespace orchestrator {

/// What a fetch may set at each level: its step (or webhook), the command line, [defaults].
/// Unset means "not said here": the next level down decides, and below [defaults] the
/// built-in value (FetchStep's).
struct FetchSettings {
  std::optional<Duration> timeout;
  std::optional<Duration> connect_timeout;
  std::optional<int> retries;
  std::optional<Duration> retry_delay;
  std::optional<std::uint64_t> max_body;
};

/// What a blueprint file says, in our own types: the runner never sees TOML.
struct BlueprintFile {
  std::string path;
  std::vector<Blueprint> kinds;  ///< in file order; Blueprint::name is the task_type or "*"
  /// Each type's max_running and max_running_per, as --limit would say them.
  std::vector<RunningLimit> limits;
  /// The names of every type's captures, each once, in the order first declared: the result
  /// CSV's columns after error_info (Capture::column indexes it).
  std::vector<std::string> capture_columns;

  /// The blueprint of `task_type`: its own, else "*", else null.
  const Blueprint* Find(std::string_view task_type) const;
  /// Whether a fetch step of any type saves its body to a file.
  bool SavesBodies() const;
  /// Whether a type's templates name its dependencies' values ({dep.NAME}, {deps.NAME}).
  bool UsesDependencyValues() const;
};

/// What the task reader must check for each task_type of `file`: the columns of its blueprint.
TaskKindTable KindsOf(const BlueprintFile& file);

/// Reads a blueprint file. Every mistake is an InputError at FILE:LINE:COLUMN: TOML syntax
/// (toml++'s message), an unknown key, a value of the wrong type, an empty or over-long steps
/// list, a step with no or two actions, duplicate step names, a duration, size, method,
/// status or column type that does not parse, a placeholder that names no column of its
/// kind. The first one found is thrown.
///
/// Each fetch and webhook takes a setting from, in order: itself, `command_line` (the flags
/// the user gave), the file's [defaults], the built-in default.
///
/// A fetch's `save` must keep its files under the current folder unless `save_anywhere`
/// (--save-anywhere): see SavePathProblem.
BlueprintFile ReadBlueprintFile(const std::string& path, const FetchSettings& command_line = {},
                                bool save_anywhere = false);
/// The same for text already in memory; `path` names it in messages.
BlueprintFile ParseBlueprintFile(std::string_view text, const std::string& path,
                                 const FetchSettings& command_line = {},
                                 bool save_anywhere = false);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_BLUEPRINT_FILE_H_

// The command line of `orchestrator merge`.
#ifndef ORCHESTRATOR_MERGE_OPTIONS_H_
#define ORCHESTRATOR_MERGE_OPTIONS_H_

#include <optional>
#include <string>
#include <vector>

#include "orchestrator/result_format.h"

namespace orchestrator {

struct MergeOptions {
  std::vector<std::string> files;      ///< result CSVs, in command-line order
  std::string tasks_path;              ///< --tasks: the run's tasks CSV ("" = not checked)
  bool quiet = false;                  ///< -q: no closing summary line (warnings stay)
  std::optional<ResultFormat> format;  ///< --format; none: the files' own
};

/// What `orchestrator merge ...` asks for.
struct MergeCommandLine {
  enum class Action {
    kRun,         ///< merge with `options`
    kPrint,       ///< print `text` on stdout and exit 0 (--help, --version)
    kUsageError,  ///< print `text` as an error and exit 2
  };
  Action action = Action::kRun;
  MergeOptions options;
  std::string text;
};

/// Whether argv names the merge subcommand (argv[1] is "merge").
bool IsMergeCommand(int argc, const char* const* argv);

/// Parses `orchestrator merge [--tasks TASKS_CSV] [--format FORMAT] [-q] FILE...` (argv[1] is
/// "merge"), with CLI11. Never throws and never prints; reads no file.
MergeCommandLine ParseMergeCommandLine(int argc, const char* const* argv);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_MERGE_OPTIONS_H_

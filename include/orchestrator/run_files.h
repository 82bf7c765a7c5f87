// The files a run reads and writes, and the rule that no two of them are one file.
#ifndef ORCHESTRATOR_RUN_FILES_H_
#define ORCHESTRATOR_RUN_FILES_H_

#include <sys/types.h>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/blueprint_file.h"
#include "orchestrator/fallible.h"
#include "orchestrator/options.h"

namespace orchestrator {

/// A file a run reads or writes: named by a path, or open already (stdin, stdout).
struct RunFile {
  std::string role;  ///< how messages name it: "--output", "the tasks CSV", "stdout"
  std::string path;  ///< as given; empty when it is `fd`
  int fd = -1;       ///< a descriptor the process has, when `path` is empty
  bool written = false;
  /// A body's file that every task of a fetch writes anew (a save without placeholders):
  /// two of them may be one file, the last body written wins.
  bool saved_body = false;
};

/// The files of a run of `options`, the ones it writes flagged: the tasks CSV (stdin, when
/// it is read from there), --resume, --blueprints and --data-file read; --output, --events,
/// --metrics, --report-file, stdout and a --save without placeholders written; and with
/// `blueprints`, the file read from options.blueprints_path, each save without placeholders
/// of its fetches.
std::vector<RunFile> RunFilesOf(const Options& options, const BlueprintFile* blueprints = nullptr);

/// Refuses a run where a file it writes is another of `files`, read or written: the same
/// regular file by device and inode, or, for one that does not exist yet, by its resolved
/// path. `--output F --resume F` is allowed (the run reads F, then writes it anew); files that
/// are not regular (/dev/null, a FIFO, a terminal) may be shared. Says which two and why.
CheckResult CheckDistinctFiles(const std::vector<RunFile>& files);

/// Keeps a body's file off the run's own files. A save path without placeholders is checked
/// with the others before the run (CheckDistinctFiles); one that a task's values make is
/// checked with this as its request is about to go, so that no value can make a body
/// replace the results, the tasks CSV or any other file of the run (`save =
/// "{name}.csv"` with a row whose name is the --output's). Made once the run's outputs are
/// in place under their names; then read-only, shared by every worker thread.
class RunFileGuard {
 public:
  explicit RunFileGuard(const std::vector<RunFile>& files);

  /// The run's file that `path` names, as a message names it (`--output "r.csv"`), or
  /// nullopt: the same regular file by device and inode (one stat), or, for a file made
  /// later or made anew by rename (as --metrics is), the same resolved path, resolved only
  /// when the file names match. Bodies' files themselves
  /// (saves without placeholders) are not the run's to keep: the last body wins.
  std::optional<std::string> Claimed(const std::string& path) const;

  /// Why a body may not be saved at `path`, as the run and the dry run both say it
  /// (`"r.csv" would replace --output "r.csv"; the request was not sent`), or nullopt.
  std::optional<std::string> Refusal(const std::string& path) const;

 private:
  struct Kept {
    std::string name;      // as messages name it
    bool regular = false;  // when the guard was made
    dev_t device = 0;
    ino_t inode = 0;
    std::string resolved;  // empty for a descriptor (stdin, stdout)
  };
  std::vector<Kept> kept_;
};

/// Whether a file of `files` that the run writes by name (`--events /dev/stderr`, say) is
/// what descriptor `fd` is open on: the same file, device or pipe.
bool WritesTo(const std::vector<RunFile>& files, int fd);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RUN_FILES_H_

// The files a run reads and writes, and the rule that no two of them are one file.
#ifndef ORCHESTRATOR_RUN_FILES_H_
#define ORCHESTRATOR_RUN_FILES_H_

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

/// Whether a file of `files` that the run writes by name (`--events /dev/stderr`, say) is
/// what descriptor `fd` is open on: the same file, device or pipe.
bool WritesTo(const std::vector<RunFile>& files, int fd);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RUN_FILES_H_

// A fetch's body on its way to the file a `save` names.
#ifndef ORCHESTRATOR_BODY_FILE_H_
#define ORCHESTRATOR_BODY_FILE_H_

#include <string>
#include <string_view>

namespace orchestrator {

/// Writes a response body to `path` so that the file exists only complete: the bytes go to a
/// temporary file in the same folder (`.orchestrator-PID-RANDOM.part`, created on the first
/// write, with the folders it needs), which Commit renames to `path`, replacing a file there.
/// A body that is not committed (a failed fetch, a cancelled run) is removed with its
/// temporary file; only a process killed outright (SIGKILL, power loss) can leave one behind,
/// never a partial file under `path`. Nothing is synced to disk: a file survives the process,
/// not a crash of the machine.
///
/// Blocking I/O on the caller's thread; one descriptor from the first write until Commit or
/// destruction. Errors are for people: `bodies/7.json: No space left on device`.
class BodyFile {
 public:
  explicit BodyFile(std::string path);
  ~BodyFile();
  BodyFile(const BodyFile&) = delete;
  BodyFile& operator=(const BodyFile&) = delete;

  /// Appends `data`. False, with `error`, when it cannot be written.
  bool Write(std::string_view data, std::string& error);
  /// Drops what was written, for a response that starts over (after a redirect).
  bool Restart(std::string& error);
  /// Makes the file `path` with what was written (nothing: an empty file). False, with
  /// `error`, when it cannot; the temporary file is then removed.
  bool Commit(std::string& error);

  const std::string& path() const { return path_; }

 private:
  bool Open(std::string& error);
  void Discard();

  std::string path_;
  std::string temporary_;  // empty until opened
  int fd_ = -1;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_BODY_FILE_H_

// The --output file.
#ifndef ORCHESTRATOR_RESULT_FILE_H_
#define ORCHESTRATOR_RESULT_FILE_H_

#include <string>
#include <string_view>

namespace orchestrator {

/// The file the result CSV is also written to. A regular file (or a new one) is written
/// under a temporary name in the same directory and renamed over FILE by Publish(), once
/// it holds the header and the rows carried over from --resume; until then FILE keeps its
/// earlier content, so `--resume FILE --output FILE` never loses completed rows, even to a
/// kill -9. Anything else (/dev/stderr, a FIFO) is written in place.
class ResultFile {
 public:
  /// Throws InputError (exit 2, nothing run) when the file cannot be created or given its
  /// mode: "FILE: cannot write `contents`: ...". A FIFO with no reader yet is waited for
  /// until `interrupt_fd` (SignalWatch::fd) is readable: InterruptedWhileOpening.
  static ResultFile Create(const std::string& path, std::string_view contents = "results",
                           int interrupt_fd = -1);
  ~ResultFile();  // removes the temporary file if it was never published
  ResultFile(ResultFile&& other) noexcept;
  ResultFile& operator=(ResultFile&&) = delete;
  ResultFile(const ResultFile&) = delete;
  ResultFile& operator=(const ResultFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  /// Writes all of `text` (write(2), again after a short write or EINTR). Returns 0 or the
  /// errno.
  int Write(std::string_view text);

  /// Syncs what was written, renames it into place and syncs the directory, so that the
  /// rename survives a crash or power loss. Returns 0, or the errno of the step that failed
  /// (when the sync or the rename failed, the earlier FILE is untouched).
  int Publish();

 private:
  ResultFile(int fd, std::string path, std::string temporary_path);

  int fd_;
  std::string path_;            // as the user named it, for messages
  std::string temporary_path_;  // empty when written in place or once published
  std::string target_path_;     // what the rename replaces (a symlink's target)
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RESULT_FILE_H_

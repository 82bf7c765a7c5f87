// An input file or standard input, opened for reading.
#ifndef ORCHESTRATOR_INPUT_FILE_H_
#define ORCHESTRATOR_INPUT_FILE_H_

#include <string>
#include <string_view>

namespace orchestrator {

/// Owns a readable file descriptor and the name used for it in messages. "-" opens
/// standard input, named "<stdin>" (and not closed: it is not ours).
class InputFile {
 public:
  /// Throws InputError if the path cannot be opened or is a directory.
  static InputFile Open(std::string_view path);
  /// Wraps a descriptor the caller gives up (closed by this object).
  InputFile(int fd, std::string name, bool owned = true);
  ~InputFile();
  InputFile(InputFile&& other) noexcept;
  InputFile& operator=(InputFile&&) = delete;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }

 private:
  int fd_;
  std::string name_;
  bool owned_;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_INPUT_FILE_H_

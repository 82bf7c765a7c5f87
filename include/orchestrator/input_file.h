// An input file or standard input, opened for reading.
#ifndef ORCHESTRATOR_INPUT_FILE_H_
#define ORCHESTRATOR_INPUT_FILE_H_

#include <string>
#include <string_view>

namespace orchestrator {

/// Opens /dev/null on each of descriptors 0, 1 and 2 that is closed (`<&-`, `>&-`, `2>&-`),
/// so that nothing the process opens later gets a standard descriptor's number: a signal
/// pipe read as the tasks CSV, say, or messages written into a results file. Call it first
/// thing, before anything is opened. It remembers whether standard input was closed:
/// InputFile::Open("-") then throws InputError `no input: standard input is closed`.
void OpenNullOnClosedStandardDescriptors();

/// Owns a readable file descriptor and the name used for it in messages. "-" opens
/// standard input, named "<stdin>" (and not closed: it is not ours), unless it was closed
/// when the process started (see OpenNullOnClosedStandardDescriptors).
///
/// Reads wait with poll(2) on the file and, when given, on `interrupt_fd` (a SignalWatch's):
/// once that is readable a read throws Interrupted, so a signal stops a run that is still
/// waiting for a slow producer, a terminal or a FIFO.
class InputFile {
 public:
  /// Throws InputError if the path cannot be opened or is a directory. A FIFO is opened
  /// without waiting for its writer (the first read waits instead, interruptibly).
  static InputFile Open(std::string_view path, int interrupt_fd = -1);
  /// Wraps a descriptor the caller gives up (closed by this object).
  InputFile(int fd, std::string name, bool owned = true, int interrupt_fd = -1);
  ~InputFile();
  InputFile(InputFile&& other) noexcept;
  InputFile& operator=(InputFile&&) = delete;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  int interrupt_fd() const { return interrupt_fd_; }

 private:
  int fd_;
  int interrupt_fd_;
  std::string name_;
  bool owned_;
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_INPUT_FILE_H_

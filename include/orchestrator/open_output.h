// Opening a file to write without blocking: a FIFO with no reader yet is waited for, and a
// signal ends the wait.
#ifndef ORCHESTRATOR_OPEN_OUTPUT_H_
#define ORCHESTRATOR_OPEN_OUTPUT_H_

#include <sys/types.h>

#include <string>

#include "orchestrator/interrupts.h"

namespace orchestrator {

/// Thrown when a signal came while a FIFO named as an output waited for its reader.
class InterruptedWhileOpening : public Interrupted {
 public:
  explicit InterruptedWhileOpening(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// open(2) of `path` with `flags` (O_WRONLY and more) and `mode`, except that it never blocks
/// in open: a FIFO that no one reads yet is tried again every few milliseconds until a reader
/// comes or `interrupt_fd` (SignalWatch::fd; -1: none) becomes readable, which throws
/// InterruptedWhileOpening. The descriptor returned is blocking, as open would have made it;
/// -1 and errno as open sets them on any other failure.
int OpenOutput(const std::string& path, int flags, mode_t mode, int interrupt_fd);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_OPEN_OUTPUT_H_

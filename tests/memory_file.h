// An in-memory input file for tests, read the way the tool reads any descriptor.
#ifndef ORCHESTRATOR_TESTS_MEMORY_FILE_H_
#define ORCHESTRATOR_TESTS_MEMORY_FILE_H_

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "orchestrator/input_file.h"

namespace orchestrator {

/// A file that holds `text`, named `name` in messages.
inline InputFile MemoryInputFile(const std::string& text, const std::string& name) {
  const int fd = ::memfd_create(name.c_str(), MFD_CLOEXEC);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::lseek(fd, 0, SEEK_SET);
  return InputFile(fd, name);
}

}  // namespace orchestrator

#endif  // ORCHESTRATOR_TESTS_MEMORY_FILE_H_

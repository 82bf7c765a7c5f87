// The captured values of a runner's tasks from their fetch to their row.
#ifndef ORCHESTRATOR_CAPTURE_STORE_H_
#define ORCHESTRATOR_CAPTURE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/captured_values.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// Keeps what each task captured until its row takes it: a million tasks that wait in a delay
/// after their fetch hold their values here, in one arena, at 8 bytes a task and the values'
/// own bytes (and 8 a value), not a string and its allocation per task. Space of taken values
/// is reclaimed by moving the others down once it outweighs them.
class CaptureStore {
 public:
  /// For `tasks` tasks; 0 (a run without captures) keeps nothing and costs nothing.
  explicit CaptureStore(std::size_t tasks = 0);

  /// Adds `values` to the task's, replacing a column it had.
  void Add(TaskIndex task, const CapturedValues& values);
  /// The task's values, which it no longer keeps.
  CapturedValues Take(TaskIndex task);
  /// The task's value of `column` so far (a later step's {NAME}), if it has one; valid until
  /// the next Add or Take.
  std::optional<std::string_view> Find(TaskIndex task, std::size_t column) const;

  /// Bytes of the arena, live or not: for tests.
  std::size_t arena_bytes() const { return arena_.size(); }

 private:
  static constexpr std::uint64_t kNone = ~std::uint64_t{0};
  void Compact();
  CapturedValues ValuesAt(std::uint64_t at) const;

  std::vector<std::uint64_t> at_;  // by task: where its block starts in arena_, or kNone
  // Blocks, each a 4-byte length and then a CapturedValues's bytes.
  std::string arena_;
  std::size_t live_ = 0;  // bytes of arena_ in blocks not yet taken
};

}  // namespace orchestrator

#endif  // ORCHESTRATOR_CAPTURE_STORE_H_

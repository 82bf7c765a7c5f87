// One --limit (or a blueprint's max_running): how many tasks of a kind may run at once.
#ifndef ORCHESTRATOR_RUNNING_LIMIT_H_
#define ORCHESTRATOR_RUNNING_LIMIT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace orchestrator {

/// One --limit: at most `max` running tasks of `type` ("*": of any type), or, with a
/// `column`, at most `max` per distinct value of that column.
struct RunningLimit {
  std::string type;
  std::string column;  ///< empty: the type as a whole
  std::size_t max = 1;
  std::string text;  ///< as given, for messages ("ingest[tenant]=3")
};

/// Parses `TYPE=N` or `TYPE[COLUMN]=N` (N >= 1; TYPE may be `*`). Returns the limit or a
/// message saying what is wrong.
std::variant<RunningLimit, std::string> ParseRunningLimit(std::string_view text);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_RUNNING_LIMIT_H_

// Reading the tasks CSV.
#ifndef ORCHESTRATOR_TASK_READER_H_
#define ORCHESTRATOR_TASK_READER_H_

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/column.h"
#include "orchestrator/input_file.h"
#include "orchestrator/task.h"

namespace orchestrator {

/// Which tasks a reader keeps: true to keep the task with this id.
using TaskFilter = std::function<bool(TaskId)>;

/// The longest line the readers accept: a longer one is an input error, not gigabytes of
/// memory spent on a file that is not what we think it is.
inline constexpr std::size_t kMaxLineLength = std::size_t{1} << 20;

/// What ReadTasks checks per task_type: the typed columns its blueprint declares. A
/// blueprint file implements it, or fills a TaskKindTable.
class TaskKinds {
 public:
  struct Column {
    std::string name;
    ColumnType type = ColumnType::kString;
  };
  struct Kind {
    std::vector<Column> columns;  ///< The order of a task's values in TaskList::values.
  };

  virtual ~TaskKinds() = default;
  /// The kind of `task_type` (its own, or a catch-all such as "*"), or null when it has
  /// none. Asked once per distinct task_type. The Kind lives as long as this object; types
  /// that share one are checked against the header once.
  virtual const Kind* Find(std::string_view task_type) const = 0;
  /// Why `task_type` has no kind, as it follows `task_type "ingset" ` in the message: e.g.
  /// `has no blueprint in kinds.toml (known: ingest, notify)`.
  virtual std::string UnknownTypeMessage(std::string_view task_type) const = 0;
  /// Names the blueprints in messages, e.g. `kinds.toml`.
  virtual std::string Source() const = 0;
};

/// TaskKinds in a map: the kind named exactly, else the one named "*", else none.
class TaskKindTable final : public TaskKinds {
 public:
  /// `source` names the blueprints in messages (a file name, say).
  explicit TaskKindTable(std::string source) : source_(std::move(source)) {}

  /// Adds (or replaces) the kind of `task_type`; "*" is the kind of every type not added.
  void Add(std::string task_type, Kind kind);

  const Kind* Find(std::string_view task_type) const override;
  /// `has no blueprint in SOURCE (known: a, b)`: the types in the order added, "*" left
  /// out, at most 10 of them named.
  std::string UnknownTypeMessage(std::string_view task_type) const override;
  std::string Source() const override { return source_; }

 private:
  std::string source_;
  std::map<std::string, Kind, std::less<>> kinds_;
  std::vector<std::string> order_;  // the types as added
};

/// Reads every row of a tasks CSV: RFC 4180 with a header naming `task_id` (required) and
/// `task_type` (optional), in any order among other columns. Accepts quoted fields, CRLF,
/// a UTF-8 BOM, blank lines and a missing final newline. Each task_id is kept once, at its
/// first occurrence (rows counts every data row): duplicates are dropped while reading, so
/// memory follows the unique tasks, not the rows. A duplicate row's task_type goes with it:
/// TaskList::type_names holds the types of the tasks kept (and, with `keep`, of the rows it
/// refuses), in the order they first came. An empty input, or a header alone, gives no
/// tasks.
///
/// Throws InputError naming the file and the physical line (the header is line 1) for the
/// first problem in file order: a bad task_id, too few or too many fields, an unclosed quote
/// (line breaks inside quoted fields are not supported and are reported as such), a NUL
/// byte, a lone carriage return, or a line longer than kMaxLineLength.
///
/// With `kinds` (a blueprint file), every row is also checked against the kind of its
/// task_type, and each task keeps the values of the columns its kind declares, in canonical
/// form (ReadColumnValue), in TaskList::values; other columns are not kept, and a task whose
/// kind declares none has no row there. More input errors, each on the row's line:
///   - a task_type with no kind: `task_type "ingset" ` + kinds->UnknownTypeMessage();
///   - a column of the kind that the header lacks: `task_type "ingest" needs column "region"
///     (kinds.toml), which the header does not have` (or `has twice`);
///   - a value that is not of its column's type: `column size: "12x" is not a u32`;
///   - column values of 4 GiB or more in all (ColumnTable's limit).
/// A kind may declare any number of columns (a column named task_id or task_type reads that
/// column).
///
/// Dependencies (issue #11): the optional columns `depends_on` (parents that must complete)
/// and `after` (parents that must finish, whatever their outcome), anywhere in the header,
/// each holding task_ids separated by spaces, tabs and/or `;` (empty: none), fill
/// TaskList::graph; a parent named twice, or in both columns, is one edge, depends_on's. A
/// duplicate row's dependencies are ignored (the first row wins), with a warning in
/// TaskList::warnings when they differ. More input errors:
///   - while reading, in file order with the others: `depends_on "12x" is not a task_id`,
///     `task 101 depends on itself`, either column twice in the header;
///   - once the whole input is read (a parent may come after its child), so after any of the
///     above: `depends_on 999 is not a task in this input` on the first such row, then a
///     cycle, on no line: `dependency cycle: 101 (line 2) -> 102 (line 3) -> 101`, each
///     task a parent of the next, starting at its first task in the input (a cycle of more
///     than 10,000 tasks shows its first and last 5,000).
///
/// With `keep` (a shard's share), a task it refuses is checked like any other but not kept,
/// and its rows are not counted in TaskList::rows, so memory follows the tasks kept; unless
/// the input has dependencies, whose groups are known only once every row is read: then
/// every task is kept (KeepShard draws the share afterwards).
TaskList ReadTasks(const InputFile& input, const TaskKinds* kinds = nullptr,
                   const TaskFilter& keep = {});

/// What the reader keeps, and its limits (lower in tests, so that small inputs reach them).
struct ReadOptions {
  /// The column values of all tasks, in bytes as ColumnTable counts them.
  std::size_t max_value_bytes = ColumnTable::kMaxBytes;
  /// The rows kept before duplicates are first dropped while reading; the next time is when
  /// twice what was kept is reached.
  std::size_t first_compaction = std::size_t{1} << 20;
  /// Keep the order in which each row's depends_on, then after, list its parents
  /// (Dependent::rank), for `{deps.NAME:json}`; otherwise the graph keeps none.
  bool dependency_order = false;
};
/// The same, with other options.
TaskList ReadTasks(const InputFile& input, const TaskKinds* kinds, const TaskFilter& keep,
                   const ReadOptions& limits);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_TASK_READER_H_

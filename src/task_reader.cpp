#include "orchestrator/task_reader.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "csv_source.h"
#include "orchestrator/input_error.h"

namespace orchestrator {
namespace {

// Stores each distinct task_type once. Rows usually repeat the previous row's type, so that
// case skips the hash lookup.
class TypeTable {
 public:
  explicit TypeTable(std::vector<std::string>& names) : names_(names) {}

  std::uint32_t Intern(std::string_view name) {
    if (last_ < names_.size() && names_[last_] == name) return last_;
    auto [it, inserted] = index_.try_emplace(std::string(name), 0);
    if (inserted) {
      it->second = static_cast<std::uint32_t>(names_.size());
      names_.emplace_back(name);
    }
    last_ = it->second;
    return last_;
  }

 private:
  std::vector<std::string>& names_;
  std::unordered_map<std::string, std::uint32_t> index_;
  std::uint32_t last_ = std::numeric_limits<std::uint32_t>::max();
};

void ReadRows(CsvReader<2>& csv, const std::string& file, TaskList& list) {
  try {
    csv.read_header(io::ignore_extra_column | io::ignore_missing_column, "task_id", "task_type");
  } catch (const io::error::header_missing&) {
    return;  // an empty input: no tasks, which is not an error
  }
  if (!csv.has_column("task_id")) {
    throw InputError(file, csv.get_file_line(),
                     "the header has no task_id column (names are case-sensitive)");
  }

  TypeTable types(list.type_names);
  // Duplicates go every so often, not only at the end: ten million rows that name a
  // thousand tasks must not hold ten million tasks. The limit doubles with what is kept,
  // so the repeated sorting costs O(n log n) in all.
  constexpr std::size_t kFirstCompaction = std::size_t{1} << 20;
  std::size_t compact_at = kFirstCompaction;
  char* id_text = nullptr;
  char* type_text = nullptr;
  while (true) {
    type_text = nullptr;  // the parser leaves a missing column's variable untouched
    if (!csv.read_row(id_text, type_text)) break;
    const std::optional<TaskId> id = ParseTaskId(id_text);
    if (!id) throw InputError(file, csv.get_file_line(), DescribeBadTaskId(id_text));
    if (list.tasks.size() == std::numeric_limits<TaskIndex>::max()) {
      throw InputError(file, csv.get_file_line(), "more rows than one run can hold (2^32 - 1)");
    }
    list.tasks.push_back({*id, types.Intern(type_text != nullptr ? type_text : "")});
    ++list.rows;
    if (list.tasks.size() >= compact_at) {
      DropDuplicateTasks(list.tasks);
      compact_at = std::max(kFirstCompaction, 2 * list.tasks.size());
    }
  }
  DropDuplicateTasks(list.tasks);
}

}  // namespace

TaskList ReadTasks(const InputFile& input) {
  TaskList list;
  CheckedByteSource source(input);
  // The parser's 48 MiB of buffers go when this function returns, before the run starts.
  CsvReader<2> csv(input.name(), source.Lend());
  try {
    ReadRows(csv, input.name(), list);
  } catch (const InputError& error) {
    throw source.EarlierOf(error);
  } catch (const io::error::base& error) {
    throw source.EarlierOf(TranslateCsvError(error, input.name(), csv.get_file_line()));
  }
  source.ThrowIfFailed();
  return list;
}

}  // namespace orchestrator

#include "orchestrator/task_reader.h"

#include <fmt/format.h>
#include <algorithm>
#include <limits>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "csv_source.h"
#include "orchestrator/byte_size.h"
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

// A name from a blueprint as a message shows it: as it is when plain, else quoted.
std::string ShowName(std::string_view name) {
  const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte != 0x7f && c != '"' && c != '\\';
  });
  return plain ? std::string(name) : QuoteForMessage(name);
}

// Reads the rows of a tasks CSV against the kinds of their task_types. The header is read
// first; a kind is matched with it the first time a row of one of its types comes.
class KindReader {
 public:
  KindReader(CsvRows& csv, const std::string& file, const TaskKinds& kinds, TaskList& list)
      : csv_(csv), file_(file), kinds_(kinds), list_(list), types_(list.type_names) {}

  void Read() {
    if (!ReadHeader()) return;  // an empty input: no tasks, which is not an error
    constexpr std::size_t kFirstCompaction = std::size_t{1} << 20;  // see ReadRows
    std::size_t compact_at = kFirstCompaction;
    while (csv_.ReadRow()) {
      ReadRow();
      if (list_.tasks.size() >= compact_at) {
        DropDuplicateTasks(list_.tasks, list_.values);
        compact_at = std::max(kFirstCompaction, 2 * list_.tasks.size());
      }
    }
    DropDuplicateTasks(list_.tasks, list_.values);
    list_.values.ShrinkToFit();
  }

 private:
  static constexpr std::size_t kAbsent = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t kTwice = kAbsent - 1;

  // What the rows of one kind read: the header field of each of its columns.
  struct Plan {
    const TaskKinds::Kind* kind;
    std::vector<std::size_t> fields;
  };

  bool ReadHeader() {
    std::vector<std::string> names;
    if (!csv_.ReadHeader(names)) return false;
    for (std::size_t k = 0; k < names.size(); ++k) {
      auto [it, inserted] = header_.try_emplace(std::move(names[k]), k);
      if (!inserted) {
        // A name the header has twice is refused where it matters: task_id and task_type
        // at once (as without kinds), another column when a row's kind needs it.
        if (it->first == "task_id" || it->first == "task_type") {
          throw InputError(
              file_, csv_.line(),
              fmt::format("column {} appears twice in the header", QuoteForMessage(it->first)));
        }
        it->second = kTwice;
      }
    }
    id_field_ = FieldOf("task_id");
    type_field_ = FieldOf("task_type");
    if (id_field_ == kAbsent) {
      throw InputError(file_, csv_.line(),
                       "the header has no task_id column (names are case-sensitive)");
    }
    return true;
  }

  std::size_t FieldOf(std::string_view name) const {
    const auto it = header_.find(std::string(name));
    return it == header_.end() ? kAbsent : it->second;
  }

  void ReadRow() {
    const char* id_text = csv_.Field(id_field_);
    const std::optional<TaskId> id = ParseTaskId(id_text);
    if (!id) throw InputError(file_, csv_.line(), DescribeBadTaskId(id_text));
    if (list_.tasks.size() == std::numeric_limits<TaskIndex>::max()) {
      throw InputError(file_, csv_.line(), "more rows than one run can hold (2^32 - 1)");
    }
    const std::string_view type_name = type_field_ != kAbsent ? csv_.Field(type_field_) : "";
    const std::uint32_t type = types_.Intern(type_name);
    if (type == plan_of_type_.size()) plan_of_type_.push_back(PlanFor(type_name));
    const Plan& plan = plans_[plan_of_type_[type]];

    std::uint32_t values = kNoValues;
    if (!plan.fields.empty()) {
      const std::vector<TaskKinds::Column>& columns = plan.kind->columns;
      if (texts_.size() < columns.size()) texts_.resize(columns.size());
      views_.resize(columns.size());
      for (std::size_t k = 0; k < columns.size(); ++k) {
        if (!ReadColumnValue(columns[k].type, csv_.Field(plan.fields[k]), texts_[k], error_)) {
          throw InputError(file_, csv_.line(),
                           fmt::format("column {}: {}", ShowName(columns[k].name), error_));
        }
        views_[k] = texts_[k];
      }
      values = list_.values.AddRow(views_);
      if (values == ColumnTable::kNoRow) {
        throw InputError(file_, csv_.line(),
                         fmt::format("the column values of the tasks need {} or more, more "
                                     "than one run holds",
                                     FormatByteSize(list_.values.max_bytes() + 1)));
      }
    }
    list_.tasks.push_back({*id, type, values});
    ++list_.rows;
  }

  // The plan of a task_type met for the first time, or an input error on its row.
  std::uint32_t PlanFor(std::string_view type_name) {
    const TaskKinds::Kind* kind = kinds_.Find(type_name);
    if (kind == nullptr) {
      throw InputError(file_, csv_.line(),
                       fmt::format("task_type {} {}", QuoteForMessage(type_name),
                                   kinds_.UnknownTypeMessage(type_name)));
    }
    auto [it, inserted] = plan_of_kind_.try_emplace(kind, 0);
    if (!inserted) return it->second;
    Plan plan{kind, {}};
    for (const TaskKinds::Column& column : kind->columns) {
      const std::size_t field = FieldOf(column.name);
      if (field == kAbsent || field == kTwice) {
        throw InputError(
            file_, csv_.line(),
            fmt::format("task_type {} needs column {} ({}), which the header {}",
                        QuoteForMessage(type_name), QuoteForMessage(column.name), kinds_.Source(),
                        field == kAbsent ? "does not have" : "has twice"));
      }
      plan.fields.push_back(field);
    }
    it->second = static_cast<std::uint32_t>(plans_.size());
    plans_.push_back(std::move(plan));
    return it->second;
  }

  CsvRows& csv_;
  const std::string& file_;
  const TaskKinds& kinds_;
  TaskList& list_;
  TypeTable types_;
  std::unordered_map<std::string, std::size_t> header_;  // name -> field, or kTwice
  std::size_t id_field_ = kAbsent;
  std::size_t type_field_ = kAbsent;
  std::vector<Plan> plans_;
  std::vector<std::uint32_t> plan_of_type_;  // per entry of list.type_names
  std::unordered_map<const TaskKinds::Kind*, std::uint32_t> plan_of_kind_;
  std::vector<std::string> texts_;  // the canonical values of the row being read
  std::vector<std::string_view> views_;
  std::string error_;
};

TaskList ReadPlainTasks(const InputFile& input) {
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

TaskList ReadTasksOfKinds(const InputFile& input, const TaskKinds& kinds,
                          std::size_t max_value_bytes) {
  TaskList list;
  list.values = ColumnTable(max_value_bytes);
  CheckedByteSource source(input);
  CsvRows csv(input.name(), source.Lend());
  try {
    KindReader(csv, input.name(), kinds, list).Read();
  } catch (const InputError& error) {
    throw source.EarlierOf(error);
  } catch (const io::error::base& error) {
    throw source.EarlierOf(TranslateCsvError(error, input.name(), csv.line()));
  }
  source.ThrowIfFailed();
  return list;
}

}  // namespace

TaskList ReadTasks(const InputFile& input, const TaskKinds* kinds) {
  return kinds != nullptr ? ReadTasksOfKinds(input, *kinds, ColumnTable::kMaxBytes)
                          : ReadPlainTasks(input);
}

TaskList ReadTasks(const InputFile& input, const TaskKinds& kinds, std::size_t max_value_bytes) {
  return ReadTasksOfKinds(input, kinds, max_value_bytes);
}

void TaskKindTable::Add(std::string task_type, Kind kind) {
  const auto [it, inserted] = kinds_.insert_or_assign(std::move(task_type), std::move(kind));
  if (inserted && it->first != "*") order_.push_back(it->first);
}

const TaskKinds::Kind* TaskKindTable::Find(std::string_view task_type) const {
  auto it = kinds_.find(task_type);
  if (it == kinds_.end()) it = kinds_.find(std::string_view("*"));
  return it == kinds_.end() ? nullptr : &it->second;
}

std::string TaskKindTable::UnknownTypeMessage(std::string_view) const {
  constexpr std::size_t kNamed = 10;
  std::string known;
  for (std::size_t i = 0; i < order_.size() && i < kNamed; ++i) {
    if (i > 0) known += ", ";
    known += ShowName(order_[i]);
  }
  if (order_.size() > kNamed) known += fmt::format(", ... ({} in all)", order_.size());
  if (order_.empty()) known = "none";
  return fmt::format("has no blueprint in {} (known: {})", source_, known);
}

}  // namespace orchestrator

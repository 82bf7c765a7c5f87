#include "orchestrator/task_reader.h"

#include <fmt/format.h>
#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
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
  /// What Keep gives a dropped type for its new number.
  static constexpr std::uint32_t kDropped = std::numeric_limits<std::uint32_t>::max();

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

  /// Keeps the types that `keep` marks, in their order, and gives each type's new number
  /// (kDropped for a type dropped).
  std::vector<std::uint32_t> Keep(const std::vector<bool>& keep) {
    std::vector<std::uint32_t> renumbered(names_.size(), kDropped);
    std::uint32_t kept = 0;
    for (std::uint32_t type = 0; type < names_.size(); ++type) {
      if (!keep[type]) continue;
      renumbered[type] = kept;
      if (kept != type) names_[kept] = std::move(names_[type]);
      ++kept;
    }
    names_.resize(kept);
    names_.shrink_to_fit();
    for (auto it = index_.begin(); it != index_.end();) {
      if (renumbered[it->second] == kDropped) {
        it = index_.erase(it);
      } else {
        it->second = renumbered[it->second];
        ++it;
      }
    }
    index_.rehash(0);  // as few buckets as the types left need
    last_ = kDropped;
    return renumbered;
  }

 private:
  std::vector<std::string>& names_;
  std::unordered_map<std::string, std::uint32_t> index_;
  std::uint32_t last_ = std::numeric_limits<std::uint32_t>::max();
};

constexpr const char* kDependsOn = "depends_on";
constexpr const char* kAfter = "after";

// The depends_on and after columns (issue #11), gathered row by row while the tasks are read
// and resolved into a TaskGraph once the whole input is: a parent may come after its child.
//
// Each row's parents are checked as the row is read (a task_id each, not the row's own) and
// kept sorted and without repeats, as ids. Rows follow the reader's list of tasks: when it
// drops duplicates, so does this, keeping the first row of each task_id (and saying when a
// later one names other dependencies), so memory follows the unique tasks here too.
class Dependencies {
 public:
  explicit Dependencies(const std::string& file) : file_(file) {}

  /// The row just read: task `id` on `line`, its depends_on and after fields (null when
  /// the header has no such column).
  void AddRow(TaskId id, std::size_t line, CsvCell depends_on, CsvCell after) {
    const std::size_t first = parents_.size();
    if (depends_on.text != nullptr) AddParents(id, line, depends_on, Dependency::kSuccess, first);
    if (after.text != nullptr) AddParents(id, line, after, Dependency::kFinish, first);
    // Sorted by parent, depends_on first, then one of each parent: depends_on wins, and of
    // a parent listed twice the first place it has.
    const auto begin = parents_.begin() + static_cast<std::ptrdiff_t>(first);
    std::sort(begin, parents_.end(), [](const Parent& a, const Parent& b) {
      if (a.id != b.id) return a.id < b.id;
      return a.kind != b.kind ? a.kind < b.kind : a.rank < b.rank;
    });
    parents_.erase(std::unique(begin, parents_.end(),
                               [](const Parent& a, const Parent& b) { return a.id == b.id; }),
                   parents_.end());
    rows_.push_back({id, line, static_cast<std::uint32_t>(first)});
  }

  /// Keeps the first row of each task_id, as DropDuplicateTasks does with the tasks.
  void DropDuplicates() {
    std::vector<std::uint32_t> order(rows_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return rows_[a].id != rows_[b].id ? rows_[a].id < rows_[b].id : a < b;
    });
    std::vector<bool> drop(rows_.size());
    std::vector<Differing> differing;
    std::size_t first = 0;  // in `order`: the first row of the current task_id, the one kept
    for (std::size_t k = 1; k < order.size(); ++k) {
      if (rows_[order[k]].id != rows_[order[first]].id) {
        first = k;
        continue;
      }
      drop[order[k]] = true;
      if (!SameParents(order[first], order[k])) {
        differing.push_back({rows_[order[k]].line, rows_[order[first]].line, rows_[order[k]].id});
      }
    }
    if (differing.empty() && std::find(drop.begin(), drop.end(), true) == drop.end()) return;
    std::sort(differing.begin(), differing.end(),
              [](const Differing& a, const Differing& b) { return a.line < b.line; });
    for (const Differing& d : differing) {
      if (warnings_.size() == kMaxWarnings) {
        ++warnings_left_off_;
        continue;
      }
      warnings_.push_back(fmt::format(
          "{}:{}: task {} is a duplicate of line {} with other dependencies; line {}'s are used",
          file_, d.line, d.id, d.first_line, d.first_line));
    }
    // Close the gaps the dropped rows leave, in rows_ and in parents_ alike.
    std::size_t kept_rows = 0;
    std::size_t kept_parents = 0;
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      if (drop[i]) continue;
      const std::size_t begin = rows_[i].first_parent;
      const std::size_t end = EndOf(i);
      rows_[kept_rows] = rows_[i];
      rows_[kept_rows].first_parent = static_cast<std::uint32_t>(kept_parents);
      std::copy(parents_.begin() + static_cast<std::ptrdiff_t>(begin),
                parents_.begin() + static_cast<std::ptrdiff_t>(end),
                parents_.begin() + static_cast<std::ptrdiff_t>(kept_parents));
      kept_parents += end - begin;
      ++kept_rows;
    }
    rows_.resize(kept_rows);
    parents_.resize(kept_parents);
  }

  /// Once the whole input is read without a problem: the graph of `tasks` (the unique tasks,
  /// as the reader kept them), with the order each row lists its parents in when
  /// `keep_order`, and the warnings. Throws InputError for a parent that is no task of the
  /// input (the first in line order) or a cycle.
  TaskGraph Finish(const std::vector<Task>& tasks, std::vector<std::string>& warnings,
                   bool keep_order) {
    DropDuplicates();
    warnings = std::move(warnings_);
    if (warnings_left_off_ > 0) {
      warnings.push_back(fmt::format(
          "{}: {} more duplicate{} with other dependencies than the lines above (the first "
          "row of each task is used)",
          file_, warnings_left_off_, warnings_left_off_ == 1 ? "" : "s"));
    }
    if (rows_.size() != tasks.size()) {
      throw std::logic_error("the dependency rows and the tasks went out of step");
    }
    if (parents_.empty()) return TaskGraph::FromEdges(tasks.size(), {});

    // Each id's task, looked up by binary search: 12 bytes per task for a moment, no hash
    // nodes.
    struct IdIndex {
      TaskId id;
      TaskIndex index;
    };
    std::vector<IdIndex> by_id(tasks.size());
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      by_id[i] = {tasks[i].id, static_cast<TaskIndex>(i)};
    }
    std::sort(by_id.begin(), by_id.end(),
              [](const IdIndex& a, const IdIndex& b) { return a.id < b.id; });
    std::vector<TaskGraph::Edge> edges;
    edges.reserve(parents_.size());
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      for (std::size_t p = rows_[i].first_parent; p < EndOf(i); ++p) {
        const Parent& parent = parents_[p];
        const auto it =
            std::lower_bound(by_id.begin(), by_id.end(), parent.id,
                             [](const IdIndex& entry, TaskId id) { return entry.id < id; });
        if (it == by_id.end() || it->id != parent.id) {
          throw InputError(
              file_, rows_[i].line,
              fmt::format("{} {} is not a task in this input", ColumnOf(parent.kind), parent.id));
        }
        edges.push_back({it->index, static_cast<TaskIndex>(i), parent.kind, parent.rank});
      }
    }
    std::vector<IdIndex>().swap(by_id);
    std::vector<Parent>().swap(parents_);
    TaskGraph graph =
        TaskGraph::FromEdges(tasks.size(), std::move(edges),
                             keep_order ? TaskGraph::Order::kKept : TaskGraph::Order::kDropped);
    if (const std::optional<std::vector<TaskIndex>> cycle = graph.FindCycle()) {
      throw InputError(file_, 0, DescribeCycle(*cycle, tasks));
    }
    return graph;
  }

 private:
  struct Parent {
    TaskId id;
    std::uint32_t rank;  // its place in the row's lists: depends_on's, then after's
    Dependency kind;
  };
  struct Row {
    TaskId id;
    std::size_t line;
    std::uint32_t first_parent;  // its parents are parents_[first_parent, next row's)
  };
  struct Differing {
    std::size_t line;
    std::size_t first_line;
    TaskId id;
  };
  static constexpr std::size_t kMaxWarnings = 100;
  static constexpr std::size_t kMaxCycleShown = 10000;

  static const char* ColumnOf(Dependency kind) {
    return kind == Dependency::kSuccess ? kDependsOn : kAfter;
  }

  std::size_t EndOf(std::size_t row) const {
    return row + 1 < rows_.size() ? rows_[row + 1].first_parent : parents_.size();
  }

  bool SameParents(std::size_t a, std::size_t b) const {
    const auto first = [&](std::size_t row) {
      return parents_.begin() + static_cast<std::ptrdiff_t>(rows_[row].first_parent);
    };
    const auto last = [&](std::size_t row) {
      return parents_.begin() + static_cast<std::ptrdiff_t>(EndOf(row));
    };
    return std::equal(first(a), last(a), first(b), last(b), [](const Parent& x, const Parent& y) {
      return x.id == y.id && x.kind == y.kind;
    });
  }

  // Splits a field at spaces, tabs and semicolons; each piece must be a task_id. The row's
  // parents start at parents_[first].
  void AddParents(TaskId child, std::size_t line, CsvCell cell, Dependency kind,
                  std::size_t first) {
    const std::string_view text = cell.text;
    const auto separator = [](char c) { return c == ' ' || c == '\t' || c == ';'; };
    std::size_t pos = 0;
    while (pos < text.size()) {
      if (separator(text[pos])) {
        ++pos;
        continue;
      }
      std::size_t end = pos;
      while (end < text.size() && !separator(text[end])) ++end;
      const std::string_view piece = text.substr(pos, end - pos);
      pos = end;
      const std::optional<TaskId> parent = ParseTaskId(piece);
      // Where the piece starts: the field's column and the piece's place in it (a list of
      // ids has no doubled quote, so its text is its line's).
      const std::size_t column = cell.column + (pos - piece.size());
      if (!parent) {
        throw InputError(
            file_, line, column,
            fmt::format("{} {} is not a task_id", ColumnOf(kind), QuoteForMessage(piece)));
      }
      if (*parent == child) {
        throw InputError(file_, line, column, fmt::format("task {} depends on itself", child));
      }
      if (parents_.size() == std::numeric_limits<std::uint32_t>::max()) {
        throw InputError(file_, line, "more dependencies than one run can hold (2^32 - 1)");
      }
      parents_.push_back({*parent, static_cast<std::uint32_t>(parents_.size() - first), kind});
    }
  }

  // `dependency cycle: 101 (line 2) -> 102 (line 3) -> 101`: each must finish before the
  // next can start. A very long cycle shows its start and its end.
  std::string DescribeCycle(const std::vector<TaskIndex>& cycle,
                            const std::vector<Task>& tasks) const {
    std::string text = "dependency cycle: ";
    for (std::size_t k = 0; k < cycle.size(); ++k) {
      if (cycle.size() > kMaxCycleShown && k == kMaxCycleShown / 2) {
        text += fmt::format("... ({} tasks in all) -> ", cycle.size());
        k = cycle.size() - kMaxCycleShown / 2;
      }
      text += fmt::format("{} (line {}) -> ", tasks[cycle[k]].id, rows_[cycle[k]].line);
    }
    text += fmt::format("{}", tasks[cycle.front()].id);
    return text;
  }

  const std::string& file_;
  std::vector<Row> rows_;
  std::vector<Parent> parents_;
  std::vector<std::string> warnings_;
  std::size_t warnings_left_off_ = 0;
};

// A duplicate row's task_type goes with the row (ReadTaskRows, after dropping duplicates):
// list.type_names keeps the types of the tasks kept, and those of the rows the filter leaves to
// other shards (which every shard knows alike), in the order they first came.
template <typename Rows>
void DropTypesOfDuplicateRows(Rows& rows, TypeTable& types, TaskList& list,
                              std::vector<bool>& types_of_other_shards) {
  std::vector<bool> used = types_of_other_shards;
  used.resize(list.type_names.size());
  for (const Task& task : list.tasks) used[task.type] = true;
  if (std::find(used.begin(), used.end(), false) == used.end()) return;
  const std::vector<std::uint32_t> renumbered = types.Keep(used);
  for (Task& task : list.tasks) task.type = renumbered[task.type];
  std::vector<bool> still_of_other_shards(list.type_names.size());
  for (std::size_t type = 0; type < types_of_other_shards.size(); ++type) {
    if (types_of_other_shards[type]) still_of_other_shards[renumbered[type]] = true;
  }
  types_of_other_shards = std::move(still_of_other_shards);
  rows.RenumberTypes(renumbered);
}

// The one row loop of both readers: each row's task_id, its dependencies, its task_type, and
// whether it is kept (a shard's share), then the task, with the duplicates dropped every so
// often. `Rows` is the reader's side of it, a type known at compile time so that nothing per
// row goes through a pointer:
//   bool Next()                    reads the next row; false at the end of the input
//   std::size_t line() const       the physical line of the row just read
//   CsvCell Id() const             its task_id
//   CsvCell DependsOn() const      its depends_on, after: a null text when the header has no
//   CsvCell After() const            such column
//   std::string_view TypeName() const  its task_type, "" when the header has none
//   void CheckKind(std::uint32_t type, std::string_view name)  checks the row's kind
//   std::uint32_t Values(bool kept)  checks the row's typed columns; keeps them when `kept`,
//                                    giving their row of TaskList::values (else kNoValues)
//   static void DropDuplicates(TaskList&)  DropDuplicateTasks on what the reader keeps
//   void RenumberTypes(const std::vector<std::uint32_t>& renumbered)  follows
//                                    TypeTable::Keep, after the duplicates are dropped
template <typename Rows>
void ReadTaskRows(Rows& rows, const std::string& file, TaskList& list,
                  std::optional<Dependencies>& dependencies, const TaskFilter& keep,
                  std::size_t first_compaction) {
  TypeTable types(list.type_names);
  std::vector<bool> types_of_other_shards;  // by type: met on a row the filter left out
  // Duplicates go every so often, not only at the end: ten million rows that name a
  // thousand tasks must not hold ten million tasks. The limit doubles with what is kept,
  // so the repeated sorting costs O(n log n) in all.
  std::size_t compact_at = first_compaction;
  while (rows.Next()) {
    const CsvCell id_cell = rows.Id();
    const std::optional<TaskId> id = ParseTaskId(id_cell.text);
    if (!id) {
      throw InputError(file, rows.line(), TrimmedColumn(id_cell), DescribeBadTaskId(id_cell.text));
    }
    if (list.tasks.size() == std::numeric_limits<TaskIndex>::max()) {
      throw InputError(file, rows.line(), "more rows than one run can hold (2^32 - 1)");
    }
    if (dependencies) dependencies->AddRow(*id, rows.line(), rows.DependsOn(), rows.After());
    const std::string_view type_name = rows.TypeName();
    const std::uint32_t type = types.Intern(type_name);
    rows.CheckKind(type, type_name);
    // A row another shard runs is checked all the same: every shard refuses the same input.
    const bool kept = !keep || dependencies || keep(*id);
    const std::uint32_t values = rows.Values(kept);
    if (!kept) {
      if (type >= types_of_other_shards.size()) types_of_other_shards.resize(type + 1);
      types_of_other_shards[type] = true;
      continue;
    }
    list.tasks.push_back({*id, type, values});
    ++list.rows;
    if (list.tasks.size() >= compact_at) {
      Rows::DropDuplicates(list);
      if (dependencies) dependencies->DropDuplicates();
      DropTypesOfDuplicateRows(rows, types, list, types_of_other_shards);
      compact_at = std::max(first_compaction, 2 * list.tasks.size());
    }
  }
  Rows::DropDuplicates(list);
  DropTypesOfDuplicateRows(rows, types, list, types_of_other_shards);
}

// Where the columns every tasks CSV may have are in its header: task_id, task_type and the
// dependency columns. One of them twice is an input error; the others are the kinds' business.
struct KnownColumns {
  static constexpr std::size_t kAbsent = std::numeric_limits<std::size_t>::max();
  std::size_t id = kAbsent;
  std::size_t type = kAbsent;
  std::size_t depends_on = kAbsent;
  std::size_t after = kAbsent;

  bool has_dependencies() const { return depends_on != kAbsent || after != kAbsent; }

  static KnownColumns Of(const std::vector<std::string>& names, const std::string& file,
                         std::size_t line) {
    KnownColumns known;
    for (std::size_t k = 0; k < names.size(); ++k) {
      std::size_t* field = names[k] == "task_id"     ? &known.id
                           : names[k] == "task_type" ? &known.type
                           : names[k] == kDependsOn  ? &known.depends_on
                           : names[k] == kAfter      ? &known.after
                                                     : nullptr;
      if (field == nullptr) continue;
      if (*field != kAbsent) {
        throw InputError(
            file, line,
            fmt::format("column {} appears twice in the header", QuoteForMessage(names[k])));
      }
      *field = k;
    }
    return known;
  }
};

// A field of the row just read, or a null cell when the header does not have it.
CsvCell CellOrNull(const CsvRows& csv, std::size_t field) {
  return field != KnownColumns::kAbsent ? csv.Cell(field) : CsvCell{};
}

// What both readers give ReadTaskRows alike: the rows of a CsvRows, and in each the cells of
// the known columns.
class KnownCells {
 public:
  bool Next() { return csv_.ReadRow(); }
  std::size_t line() const { return csv_.line(); }
  CsvCell Id() const { return csv_.Cell(known_.id); }
  CsvCell DependsOn() const { return CellOrNull(csv_, known_.depends_on); }
  CsvCell After() const { return CellOrNull(csv_, known_.after); }
  std::string_view TypeName() const {
    return known_.type != KnownColumns::kAbsent ? csv_.Field(known_.type) : "";
  }

 protected:
  explicit KnownCells(CsvRows& csv, KnownColumns known = {}) : csv_(csv), known_(known) {}

  CsvRows& csv_;
  KnownColumns known_;  // once the header is read
};

// The rows of the reader without kinds: none of their columns typed.
class PlainRows : public KnownCells {
 public:
  PlainRows(CsvRows& csv, KnownColumns known) : KnownCells(csv, known) {}

  void CheckKind(std::uint32_t /*type*/, std::string_view /*name*/) {}
  std::uint32_t Values(bool /*kept*/) { return kNoValues; }
  static void DropDuplicates(TaskList& list) { DropDuplicateTasks(list.tasks); }
  void RenumberTypes(const std::vector<std::uint32_t>& /*renumbered*/) {}
};

// Whether a header field looks like data: a number, such as a task_id, perhaps quoted.
bool LooksLikeANumber(std::string_view field) {
  const auto trim = [](std::string_view text, std::string_view blanks) {
    const std::size_t begin = text.find_first_not_of(blanks);
    if (begin == std::string_view::npos) return std::string_view();
    return text.substr(begin, text.find_last_not_of(blanks) - begin + 1);
  };
  field = trim(trim(field, " \t"), "\"");
  return !field.empty() && std::all_of(field.begin(), field.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '.' || c == '-';
  }) && field.find_first_of("0123456789") != std::string_view::npos;
}

// `no task_id column in the header "id;type" (the separator is a comma; is this file
// separated by ';'?)`: the header as read, and a guess why.
std::string NoTaskIdMessage(const CheckedByteSource& source) {
  const std::string& header = source.header_text();
  std::string why = "names are case-sensitive";
  const bool comma = header.find(',') != std::string::npos;
  if (!comma && header.find(';') != std::string::npos) {
    why = "the separator is a comma; is this file separated by ';'?";
  } else if (!comma && header.find('\t') != std::string::npos) {
    why = "the separator is a comma; is this file separated by a tab?";
  } else if (LooksLikeANumber(std::string_view(header).substr(0, header.find(',')))) {
    why = "does the file lack its header line?";
  }
  return fmt::format("no task_id column in the header {} ({})", QuoteForMessage(header, 100), why);
}

void ReadRows(CsvRows& csv, const CheckedByteSource& source, const std::string& file,
              TaskList& list, std::optional<Dependencies>& dependencies, const TaskFilter& keep,
              std::size_t first_compaction) {
  std::vector<std::string> names;
  if (!csv.ReadHeader(names)) return;  // an empty input: no tasks, which is not an error
  const KnownColumns known = KnownColumns::Of(names, file, csv.line());
  if (known.id == KnownColumns::kAbsent) {
    throw InputError(file, csv.line(), NoTaskIdMessage(source));
  }
  if (known.has_dependencies()) dependencies.emplace(file);
  PlainRows rows(csv, known);
  ReadTaskRows(rows, file, list, dependencies, keep, first_compaction);
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
class KindReader : public KnownCells {
 public:
  KindReader(CsvRows& csv, const CheckedByteSource& source, const std::string& file,
             const TaskKinds& kinds, TaskList& list, std::optional<Dependencies>& dependencies,
             const TaskFilter& keep, std::size_t first_compaction)
      : KnownCells(csv),
        source_(source),
        file_(file),
        kinds_(kinds),
        list_(list),
        dependencies_(dependencies),
        keep_(keep),
        first_compaction_(first_compaction) {}

  void Read() {
    if (!ReadHeader()) return;  // an empty input: no tasks, which is not an error
    ReadTaskRows(*this, file_, list_, dependencies_, keep_, first_compaction_);
    list_.values.ShrinkToFit();
  }

  // The plan of the row's kind, or an input error when it has none or the header lacks a
  // column it needs.
  void CheckKind(std::uint32_t type, std::string_view type_name) {
    if (type == plan_of_type_.size()) plan_of_type_.push_back(PlanFor(type_name));
    plan_ = plan_of_type_[type];
  }

  // The row's columns of its kind, checked whether or not the task is kept: every shard
  // refuses the same input.
  std::uint32_t Values(bool kept) {
    const Plan& plan = plans_[plan_];
    if (plan.fields.empty()) return kNoValues;
    const std::vector<TaskKinds::Column>& columns = plan.kind->columns;
    if (texts_.size() < columns.size()) texts_.resize(columns.size());
    views_.resize(columns.size());
    for (std::size_t k = 0; k < columns.size(); ++k) {
      const CsvCell cell = csv_.Cell(plan.fields[k]);
      if (!ReadColumnValue(columns[k].type, cell.text, texts_[k], error_)) {
        throw InputError(file_, csv_.line(), cell.column,
                         fmt::format("column {}: {}", ShowName(columns[k].name), error_));
      }
      views_[k] = texts_[k];
    }
    if (!kept) return kNoValues;
    const std::uint32_t values = list_.values.AddRow(views_);
    if (values == ColumnTable::kNoRow) {
      throw InputError(file_, csv_.line(),
                       fmt::format("the column values of the tasks need {} or more, more "
                                   "than one run holds",
                                   FormatByteSize(list_.values.max_bytes() + 1)));
    }
    return values;
  }

  static void DropDuplicates(TaskList& list) { DropDuplicateTasks(list.tasks, list.values); }

  // Each type's plan follows it to its new number; a dropped type's plan goes.
  void RenumberTypes(const std::vector<std::uint32_t>& renumbered) {
    std::vector<std::uint32_t> plans(list_.type_names.size());
    for (std::size_t type = 0; type < plan_of_type_.size(); ++type) {
      if (renumbered[type] != TypeTable::kDropped) plans[renumbered[type]] = plan_of_type_[type];
    }
    plan_of_type_ = std::move(plans);
  }

 private:
  static constexpr std::size_t kAbsent = KnownColumns::kAbsent;
  static constexpr std::size_t kTwice = kAbsent - 1;

  // What the rows of one kind read: the header field of each of its columns.
  struct Plan {
    const TaskKinds::Kind* kind;
    std::vector<std::size_t> fields;
  };

  bool ReadHeader() {
    std::vector<std::string> names;
    if (!csv_.ReadHeader(names)) return false;
    // A name the header has twice is refused where it matters: task_id, task_type and the
    // dependency columns at once (as without kinds), another column when a row's kind needs it.
    known_ = KnownColumns::Of(names, file_, csv_.line());
    for (std::size_t k = 0; k < names.size(); ++k) {
      auto [it, inserted] = header_.try_emplace(std::move(names[k]), k);
      if (!inserted) it->second = kTwice;
    }
    if (known_.has_dependencies()) dependencies_.emplace(file_);
    if (known_.id == kAbsent) throw InputError(file_, csv_.line(), NoTaskIdMessage(source_));
    return true;
  }

  std::size_t FieldOf(std::string_view name) const {
    const auto it = header_.find(std::string(name));
    return it == header_.end() ? kAbsent : it->second;
  }

  // The plan of a task_type met for the first time, or an input error on its row.
  std::uint32_t PlanFor(std::string_view type_name) {
    const TaskKinds::Kind* kind = kinds_.Find(type_name);
    if (kind == nullptr) {
      // The row's task_type cell (a header without task_type names the type "").
      const std::size_t column = known_.type != kAbsent ? csv_.Cell(known_.type).column : 0;
      throw InputError(file_, csv_.line(), column,
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

  const CheckedByteSource& source_;
  const std::string& file_;
  const TaskKinds& kinds_;
  TaskList& list_;
  std::unordered_map<std::string, std::size_t> header_;  // name -> field, or kTwice
  std::optional<Dependencies>& dependencies_;            // set when the header has either column
  const TaskFilter& keep_;
  std::size_t first_compaction_;
  std::vector<Plan> plans_;
  std::vector<std::uint32_t> plan_of_type_;  // per entry of list.type_names
  std::uint32_t plan_ = 0;                   // the plan of the row being read
  std::unordered_map<const TaskKinds::Kind*, std::uint32_t> plan_of_kind_;
  std::vector<std::string> texts_;  // the canonical values of the row being read
  std::vector<std::string_view> views_;
  std::string error_;
};

TaskList ReadPlainTasks(const InputFile& input, const TaskFilter& keep,
                        const ReadOptions& options) {
  TaskList list;
  CheckedByteSource source(input);
  // The parser's 48 MiB of buffers go when this function returns, before the run starts.
  std::optional<Dependencies> dependencies;
  {
    CsvRows csv(input.name(), source.Lend());
    try {
      ReadRows(csv, source, input.name(), list, dependencies, keep, options.first_compaction);
    } catch (const InputError& error) {
      throw source.EarlierOf(error);
    } catch (const io::error::base& error) {
      throw source.EarlierOf(TranslateCsvError(error, input.name(), csv.line()));
    }
    source.ThrowIfFailed();
  }
  // Only once every row is read: a parent may come after its child.
  if (dependencies) {
    list.graph = dependencies->Finish(list.tasks, list.warnings, options.dependency_order);
  }
  return list;
}

TaskList ReadTasksOfKinds(const InputFile& input, const TaskKinds& kinds, const TaskFilter& keep,
                          const ReadOptions& options) {
  TaskList list;
  list.values = ColumnTable(options.max_value_bytes);
  CheckedByteSource source(input);
  std::optional<Dependencies> dependencies;
  {
    CsvRows csv(input.name(), source.Lend());
    try {
      KindReader(csv, source, input.name(), kinds, list, dependencies, keep,
                 options.first_compaction)
          .Read();
    } catch (const InputError& error) {
      throw source.EarlierOf(error);
    } catch (const io::error::base& error) {
      throw source.EarlierOf(TranslateCsvError(error, input.name(), csv.line()));
    }
    source.ThrowIfFailed();
  }
  if (dependencies) {
    list.graph = dependencies->Finish(list.tasks, list.warnings, options.dependency_order);
  }
  return list;
}

}  // namespace

TaskList ReadTasks(const InputFile& input, const TaskKinds* kinds, const TaskFilter& keep) {
  return ReadTasks(input, kinds, keep, ReadOptions{});
}

TaskList ReadTasks(const InputFile& input, const TaskKinds* kinds, const TaskFilter& keep,
                   const ReadOptions& options) {
  return kinds != nullptr ? ReadTasksOfKinds(input, *kinds, keep, options)
                          : ReadPlainTasks(input, keep, options);
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

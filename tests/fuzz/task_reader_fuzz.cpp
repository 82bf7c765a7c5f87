// libFuzzer target: the tasks CSV reader (ReadTasks) and DropDuplicateTasks.
//
// The bytes are the whole file, read through a memfd the way the tool reads any descriptor.
// Checked on every input:
//   - ReadTasks returns or throws orchestrator::InputError; anything else escaping is a bug.
//   - An InputError reads "tasks.csv:LINE: message": the file name, a line from 1 to the
//     number of physical lines, a non-empty message, and no control characters at all
//     (hostile input is quoted, see QuoteForMessage).
//   - A returned list keeps each task_id once, has no more tasks than rows, valid type
//     indices and distinct type names.
//   - The outcome agrees with a small model of RFC 4180 and the README's "Input" section
//     (below), written without looking at the parser: on acceptance the same rows and the
//     same unique tasks (ids and types, first occurrence, input order), on refusal the same
//     line.
//   - DropDuplicateTasks on all the rows (duplicates included) leaves every id once, keeps
//     the first occurrence of each in input order, and returns the number of rows dropped.
//   - Dependencies (depends_on, after): the same edges as the model, the same number of
//     warnings, or an error on the same line; a cycle is reported on no line
//     ("tasks.csv: dependency cycle: ...") and what it names is a cycle of the input.
#include <sanitizer/asan_interface.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "orchestrator/input_error.h"
#include "orchestrator/input_file.h"
#include "orchestrator/task.h"
#include "orchestrator/task_reader.h"

namespace {

constexpr const char* kFileName = "tasks.csv";

[[noreturn]] void Fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "\ntask_reader_fuzz: %s%s%s\n", what, detail.empty() ? "" : ": ",
               detail.c_str());
  __builtin_trap();
}

// ---------------------------------------------------------------------------------------
// The parser's buffer.
//
// io::LineReader (fast-cpp-csv-parser as Debian ships it) allocates `new char[3 * 2^24]` for
// every reader, and ASan's allocator writes the 6 MiB of shadow of those 48 MiB when it maps
// them and again when they are freed: memset and page faults that took about 90% of the time
// (perf) and held the target to about 130 inputs a second. tests/fuzz/run links this target
// with -Wl,--wrap=_Znam,--wrap=_ZdaPv, so every `new[]` and `delete[]` of the statically linked
// code (ReadTasks included) comes here first. Only an allocation of exactly the parser's size
// is served here: a fresh anonymous mapping (zero pages, like the mapping glibc's malloc gives
// the real tool) between two inaccessible guard pages that ASan also knows as poisoned, so an
// overrun or underrun is reported; delete[] unmaps it, so a use after it faults. Everything
// else goes to ASan's own operators, unchanged.

constexpr std::size_t kParserBufferSize = std::size_t{3} << 24;

struct Mapping {
  char* base = nullptr;  // the first guard page
  std::size_t page = 0;
  char* user() const { return base + page; }
  std::size_t length() const { return kParserBufferSize + 2 * page; }
};
// ReadTasks has one reader at a time; the fuzz loop runs on one thread.
Mapping live_mappings[4];
std::size_t mappings_made = 0;

}  // namespace

extern "C" void* __real__Znam(std::size_t size);
extern "C" void __real__ZdaPv(void* pointer) noexcept;

extern "C" void* __wrap__Znam(std::size_t size) {
  if (size != kParserBufferSize) return __real__Znam(size);
  Mapping* slot = nullptr;
  for (Mapping& mapping : live_mappings) {
    if (mapping.base == nullptr) {
      slot = &mapping;
      break;
    }
  }
  if (slot == nullptr) throw std::bad_alloc();
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* base = ::mmap(nullptr, kParserBufferSize + 2 * page, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  *slot = {static_cast<char*>(base), page};
  if (::mprotect(slot->user(), kParserBufferSize, PROT_READ | PROT_WRITE) != 0) {
    ::munmap(base, slot->length());
    *slot = {};
    throw std::bad_alloc();
  }
  __asan_poison_memory_region(slot->base, page);
  __asan_poison_memory_region(slot->user() + kParserBufferSize, page);
  ++mappings_made;
  return slot->user();
}

extern "C" void __wrap__ZdaPv(void* pointer) noexcept {
  if (pointer != nullptr) {
    for (Mapping& mapping : live_mappings) {
      if (mapping.base != nullptr && mapping.user() == pointer) {
        // Only the guard pages: unpoisoning the 48 MiB would write 6 MiB of shadow again.
        __asan_unpoison_memory_region(mapping.base, mapping.page);
        __asan_unpoison_memory_region(mapping.user() + kParserBufferSize, mapping.page);
        ::munmap(mapping.base, mapping.length());
        mapping = {};
        return;
      }
    }
  }
  __real__ZdaPv(pointer);
}

namespace {

// ---------------------------------------------------------------------------------------
// The model: README.md's "Input" section and RFC 4180, written from them alone, not from src/
// or the parser.
//
//   - A UTF-8 BOM at the very start is dropped. Lines end at each LF; a CR just before the LF
//     is part of the line end (CRLF), and so is a missing final LF. Lines are numbered from 1
//     by physical line, blank ones included.
//   - A line holding a NUL, any other CR (a CR as the input's last byte too), or more than
//     1 MiB before its line end is an error (the line end does not count towards the 1 MiB;
//     nor does the BOM, a choice of the model that fuzzing cannot reach, see README.md).
//   - A blank line (nothing, or only spaces and tabs) is skipped, wherever it is.
//   - The first other line is the header. It needs a task_id column; task_type is optional,
//     other columns are ignored, and names are matched exactly, in any order. A header naming
//     task_id or task_type twice is an error: the README cannot say which one is meant.
//   - Every line is an RFC 4180 record: fields split at commas, each either plain (no quote
//     in it) or quoted (a quote, then text with "" for each quote, then a quote right before
//     a comma or the line end). A quoted field not closed on its line is an error.
//   - Spaces and tabs around a field are dropped, in the header and in rows alike: around a
//     plain field, and outside the quotes of a quoted one (README; RFC 4180 would keep them).
//     Inside quotes they are kept, so `" task_id"` names no task_id column.
//   - A data row has as many fields as the header; its task_id, once unquoted and stripped of
//     spaces and tabs around it, is 1 or more decimal digits worth at most 2^64 - 1.
//   - The first problem in file order decides the line. No problem: every data row is a task,
//     and the reader keeps each task_id's first row.
//   - depends_on and after (issue #11) are optional columns like task_type (twice is an error).
//     Each holds task_ids separated by spaces, tabs and semicolons; a piece that is no task_id,
//     or the row's own id, is an error on its row, in file order with the above. Then, once
//     every line is read, on the rows kept (each task_id's first): a parent that is no task_id
//     of the input is an error on the first such row; then a cycle is an error on no line.
//     A parent in both columns is one edge, depends_on's. A later duplicate row whose set of
//     (parent, kind) differs from the kept row's gives a warning (at most 100 and a summary).
//   - An input that RFC 4180 does not call CSV, and for which the README does not say what
//     happens, is "unspecified" from its first such line on: a quote inside a plain field, or
//     text after a quoted field's closing quote. The reader may then accept or refuse, but not
//     refuse an earlier line, and what it accepts must begin with the model's rows so far.

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::size_t kMaxLine = std::size_t{1} << 20;  // "a line longer than 1 MiB"
static_assert(kMaxLine == orchestrator::kMaxLineLength);

struct ModelTask {
  std::uint64_t id;
  std::string type;
  std::size_t line = 0;
  std::map<std::uint64_t, bool> parents = {};  // parent -> must complete (depends_on)
};

struct ModelResult {
  enum Kind { kAccept, kReject, kUnspecified } kind = kAccept;
  // kReject: the line of the first problem (0 for a cycle); kUnspecified: first such line.
  std::size_t line = 0;
  std::vector<ModelTask> rows;  // every data row; before `line` unless kAccept
  bool cycle = false;           // kReject for a dependency cycle
  std::size_t warnings = 0;     // kAccept: how many the reader gives
};

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

enum class Record { kOk, kUnclosedQuote, kNotCsv };

// Splits one line (without its line end) into field values, dropping the spaces and tabs
// around each field (outside the quotes of a quoted one).
Record SplitRecord(std::string_view line, std::vector<std::string>& fields) {
  fields.clear();
  std::size_t pos = 0;
  const auto skip_blanks = [&] {
    while (pos < line.size() && IsBlank(line[pos])) ++pos;
  };
  while (true) {
    std::string value;
    skip_blanks();
    if (pos < line.size() && line[pos] == '"') {
      ++pos;
      while (true) {
        if (pos == line.size()) return Record::kUnclosedQuote;
        if (line[pos] == '"') {
          if (pos + 1 < line.size() && line[pos + 1] == '"') {
            value += '"';
            pos += 2;
            continue;
          }
          ++pos;
          break;
        }
        value += line[pos++];
      }
      skip_blanks();
      if (pos < line.size() && line[pos] != ',') return Record::kNotCsv;
    } else {
      const std::size_t start = pos;
      while (pos < line.size() && line[pos] != ',') {
        if (line[pos] == '"') return Record::kNotCsv;
        ++pos;
      }
      value = TrimBlanks(line.substr(start, pos - start));
    }
    fields.push_back(std::move(value));
    if (pos == line.size()) return Record::kOk;
    ++pos;  // the comma
  }
}

std::optional<std::uint64_t> ModelId(std::string_view text) {
  text = TrimBlanks(text);
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

ModelResult Model(std::string_view input) {
  ModelResult result;
  const auto stop = [&](ModelResult::Kind kind, std::size_t line) {
    result.kind = kind;
    result.line = line;
    return result;
  };
  if (input.substr(0, kBom.size()) == kBom) input.remove_prefix(kBom.size());

  bool have_header = false;
  std::size_t columns = 0;
  std::optional<std::size_t> id_column, type_column, depends_on_column, after_column;
  std::vector<std::string> fields;
  for (std::size_t number = 1; !input.empty(); ++number) {
    const std::size_t lf = input.find('\n');
    std::string_view line = input.substr(0, lf);
    input.remove_prefix(lf == std::string_view::npos ? input.size() : lf + 1);
    if (lf != std::string_view::npos && !line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.find('\0') != std::string_view::npos || line.find('\r') != std::string_view::npos ||
        line.size() > kMaxLine) {
      return stop(ModelResult::kReject, number);
    }
    if (TrimBlanks(line).empty()) continue;

    switch (SplitRecord(line, fields)) {
      case Record::kOk:
        break;
      case Record::kUnclosedQuote:
        return stop(ModelResult::kReject, number);
      case Record::kNotCsv:
        return stop(ModelResult::kUnspecified, number);
    }
    if (!have_header) {
      for (std::size_t k = 0; k < fields.size(); ++k) {
        auto* column = fields[k] == "task_id"      ? &id_column
                       : fields[k] == "task_type"  ? &type_column
                       : fields[k] == "depends_on" ? &depends_on_column
                       : fields[k] == "after"      ? &after_column
                                                   : nullptr;
        if (column == nullptr) continue;
        if (column->has_value()) return stop(ModelResult::kReject, number);
        *column = k;
      }
      if (!id_column) return stop(ModelResult::kReject, number);
      columns = fields.size();
      have_header = true;
      continue;
    }
    if (fields.size() != columns) return stop(ModelResult::kReject, number);
    const std::optional<std::uint64_t> id = ModelId(fields[*id_column]);
    if (!id) return stop(ModelResult::kReject, number);
    ModelTask row{*id, type_column ? fields[*type_column] : std::string(), number};
    for (const auto& [column, success] :
         {std::pair{depends_on_column, true}, {after_column, false}}) {
      if (!column) continue;
      std::string piece;
      const std::string& text = fields[*column];
      for (std::size_t pos = 0; pos <= text.size(); ++pos) {
        if (pos < text.size() && text[pos] != ' ' && text[pos] != '\t' && text[pos] != ';') {
          piece += text[pos];
          continue;
        }
        if (piece.empty()) continue;
        const std::optional<std::uint64_t> parent = ModelId(piece);
        piece.clear();
        if (!parent || *parent == *id) return stop(ModelResult::kReject, number);
        row.parents[*parent] = row.parents[*parent] || success;
      }
    }
    result.rows.push_back(std::move(row));
  }

  // Dependencies, once every line is read: on the rows kept.
  std::map<std::uint64_t, const ModelTask*> kept;
  std::size_t warnings = 0;
  for (const ModelTask& row : result.rows) {
    const auto [it, first] = kept.emplace(row.id, &row);
    if (!first && it->second->parents != row.parents) ++warnings;
  }
  result.warnings = warnings > 100 ? 101 : warnings;
  for (const ModelTask& row : result.rows) {
    if (kept[row.id] != &row) continue;
    for (const auto& [parent, success] : row.parents) {
      if (!kept.contains(parent)) return stop(ModelResult::kReject, row.line);
    }
  }
  // Kahn: take the tasks whose parents are all taken; what is left holds a cycle.
  std::map<std::uint64_t, std::size_t> waiting;
  std::map<std::uint64_t, std::vector<std::uint64_t>> children;
  std::vector<std::uint64_t> ready;
  for (const auto& [id, row] : kept) {
    waiting[id] = row->parents.size();
    if (row->parents.empty()) ready.push_back(id);
    for (const auto& [parent, success] : row->parents) children[parent].push_back(id);
  }
  std::size_t taken = 0;
  while (!ready.empty()) {
    const std::uint64_t id = ready.back();
    ready.pop_back();
    ++taken;
    for (const std::uint64_t child : children[id]) {
      if (--waiting[child] == 0) ready.push_back(child);
    }
  }
  if (taken != kept.size()) {
    result.cycle = true;
    return stop(ModelResult::kReject, 0);
  }
  return result;
}

// Whether `message` ("dependency cycle: 1 (line 2) -> 3 (line 4) -> 1") names a cycle of the
// model's kept rows: each a parent of the next, on its kept row's line, none twice.
bool NamesACycle(const std::string& message, const std::vector<ModelTask>& rows) {
  const std::string prefix = "dependency cycle: ";
  if (message.compare(0, prefix.size(), prefix) != 0) return false;
  std::map<std::uint64_t, const ModelTask*> kept;
  for (const ModelTask& row : rows) kept.emplace(row.id, &row);
  std::vector<std::uint64_t> ids;
  std::size_t pos = prefix.size();
  while (true) {
    std::size_t end = message.find(' ', pos);
    const std::optional<std::uint64_t> id =
        ModelId(message.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
    if (!id || !kept.contains(*id)) return false;
    if (end == std::string::npos) {
      if (ids.empty() || *id != ids.front()) return false;
      break;
    }
    const std::string line = " (line " + std::to_string(kept[*id]->line) + ") -> ";
    if (message.compare(end, line.size(), line) != 0) return false;
    ids.push_back(*id);
    pos = end + line.size();
  }
  if (std::set<std::uint64_t>(ids.begin(), ids.end()).size() != ids.size()) return false;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    // ids[k] must finish before ids[k + 1]: it is one of its parents.
    if (!kept[ids[(k + 1) % ids.size()]]->parents.contains(ids[k])) return false;
  }
  return true;
}

// The rows with each task_id's first row only, in input order.
std::vector<ModelTask> FirstOfEachId(const std::vector<ModelTask>& rows) {
  std::vector<ModelTask> unique;
  std::set<std::uint64_t> seen;
  for (const ModelTask& row : rows) {
    if (seen.insert(row.id).second) unique.push_back(row);
  }
  return unique;
}

// ---------------------------------------------------------------------------------------

std::string Show(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b >= 0x7f || c == '\\') {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", b);
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

orchestrator::InputFile MemoryFile(const std::uint8_t* data, std::size_t size) {
  const int fd = ::memfd_create(kFileName, MFD_CLOEXEC);
  if (fd < 0) {
    std::perror("memfd_create");
    std::abort();
  }
  std::size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, data + written, size - written);
    if (n <= 0) {
      std::perror("write");
      std::abort();
    }
    written += static_cast<std::size_t>(n);
  }
  ::lseek(fd, 0, SEEK_SET);
  return orchestrator::InputFile(fd, kFileName);
}

// What ReadTasks did: a task list, or an error on a line.
struct Outcome {
  std::optional<orchestrator::TaskList> list;
  std::size_t error_line = 0;
  std::string error;
  std::string message;  // the error without its FILE:LINE: prefix
};

std::string Describe(const ModelResult& model) {
  switch (model.kind) {
    case ModelResult::kAccept:
      return "accepts " + std::to_string(model.rows.size()) + " rows";
    case ModelResult::kReject:
      return "refuses line " + std::to_string(model.line);
    case ModelResult::kUnspecified:
      return "unspecified from line " + std::to_string(model.line);
  }
  return {};
}

std::string Describe(const ModelTask& task) {
  return std::to_string(task.id) + ",\"" + Show(task.type) + "\"";
}

// Why the outcome disagrees with the model; empty when it agrees.
std::string Disagreement(const Outcome& outcome, const ModelResult& model) {
  if (!outcome.list) {
    if (model.kind == ModelResult::kAccept) return "refused what the model accepts";
    if (model.kind == ModelResult::kReject && outcome.error_line != model.line) {
      return "refused another line than the model";
    }
    if (model.kind == ModelResult::kReject && model.cycle &&
        !NamesACycle(outcome.message, model.rows)) {
      return "named no cycle of the input";
    }
    // Past an unspecified line the model does not know the tasks a parent may name.
    const bool resolution =
        outcome.error_line == 0 ||
        outcome.message.find("is not a task in this input") != std::string::npos;
    if (model.kind == ModelResult::kUnspecified && outcome.error_line < model.line && !resolution) {
      return "refused a line before the model's first unspecified one";
    }
    return {};
  }
  const orchestrator::TaskList& list = *outcome.list;
  if (model.kind == ModelResult::kReject) return "accepted what the model refuses";
  const std::vector<ModelTask> unique = FirstOfEachId(model.rows);
  const bool whole = model.kind == ModelResult::kAccept;
  if (whole ? list.rows != model.rows.size() : list.rows < model.rows.size()) {
    return "rows " + std::to_string(list.rows) + " vs the model's " +
           std::to_string(model.rows.size());
  }
  if (whole ? list.tasks.size() != unique.size() : list.tasks.size() < unique.size()) {
    return "unique tasks " + std::to_string(list.tasks.size()) + " vs the model's " +
           std::to_string(unique.size());
  }
  for (std::size_t i = 0; i < unique.size(); ++i) {
    const orchestrator::Task& task = list.tasks[i];
    if (task.id != unique[i].id || list.TypeName(task) != unique[i].type) {
      return "task " + std::to_string(i) + " is " + Describe({task.id, list.TypeName(task)}) +
             ", the model's " + Describe(unique[i]);
    }
  }
  if (!whole) return {};
  if (list.warnings.size() != model.warnings) {
    return "warnings " + std::to_string(list.warnings.size()) + " vs the model's " +
           std::to_string(model.warnings);
  }
  std::set<std::tuple<std::uint64_t, std::uint64_t, bool>> edges, model_edges;
  for (orchestrator::TaskIndex p = 0; p < list.tasks.size(); ++p) {
    list.graph.ForEachChild(p, [&](const orchestrator::Dependent& d) {
      edges.emplace(list.tasks[p].id, list.tasks[d.child].id,
                    d.kind == orchestrator::Dependency::kSuccess);
    });
  }
  for (const ModelTask& task : unique) {
    for (const auto& [parent, success] : task.parents)
      model_edges.emplace(parent, task.id, success);
  }
  if (edges != model_edges) {
    return std::to_string(edges.size()) + " edges, the model's " +
           std::to_string(model_edges.size()) + ", or others";
  }
  return {};
}

// Physical line `line` (from 1) of `input`, without its line end.
std::string_view LineOf(std::string_view input, std::size_t line) {
  std::size_t begin = 0;
  for (std::size_t k = 1; k < line; ++k) {
    const std::size_t end = input.find('\n', begin);
    if (end == std::string_view::npos) return {};
    begin = end + 1;
  }
  std::string_view text = input.substr(begin, input.find('\n', begin) - begin);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

void CheckError(const orchestrator::InputError& error, std::string_view input,
                std::size_t physical_lines) {
  const std::string what = error.what();
  const std::string prefix = std::string(kFileName) + ":";
  if (what.compare(0, prefix.size(), prefix) != 0)
    Fail("message does not start with tasks.csv:", what);
  if (error.line() == 0) {  // a dependency cycle, the one error on no line
    if (what.compare(prefix.size(), 19, " dependency cycle: ") != 0 || error.file() != kFileName) {
      Fail("an error on no line that is not a dependency cycle", what);
    }
    for (const char c : what) {
      const auto b = static_cast<unsigned char>(c);
      if (b < 0x20 || b == 0x7f) Fail("control character in the message", Show(what));
    }
    return;
  }
  std::size_t pos = prefix.size();
  std::size_t line = 0;
  const std::size_t digits_start = pos;
  while (pos < what.size() && what[pos] >= '0' && what[pos] <= '9' && pos - digits_start < 20) {
    line = line * 10 + static_cast<std::size_t>(what[pos] - '0');
    ++pos;
  }
  if (pos == digits_start || what[digits_start] == '0') Fail("message has no line number", what);
  // FILE:LINE:COLUMN for a bad value, FILE:LINE for a problem of the whole line.
  std::size_t column = 0;
  if (pos < what.size() && what[pos] == ':' && pos + 1 < what.size() && what[pos + 1] >= '1' &&
      what[pos + 1] <= '9') {
    const std::size_t column_start = ++pos;
    while (pos < what.size() && what[pos] >= '0' && what[pos] <= '9' && pos - column_start < 20) {
      column = column * 10 + static_cast<std::size_t>(what[pos] - '0');
      ++pos;
    }
  }
  if (what.compare(pos, 2, ": ") != 0 || pos + 2 >= what.size()) {
    Fail("message is not FILE:LINE: text or FILE:LINE:COLUMN: text", what);
  }
  if (error.file() != kFileName || error.line() != line || error.column() != column ||
      error.message().empty()) {
    Fail("InputError fields disagree with its message", what);
  }
  if (line > physical_lines) {
    Fail("error names a line past the end of the input",
         what + " (input has " + std::to_string(physical_lines) + " lines)");
  }
  if (column != 0) {
    const std::string_view text = LineOf(input, line);
    if (column > text.size() + 1) {
      Fail("error names a column past the end of its line",
           what + " (the line has " + std::to_string(text.size()) + " bytes)");
    }
    // A value the message quotes as it is (no escape, not cut) starts at the column.
    const std::string& message = error.message();
    const std::size_t open = message.find('"');
    const std::size_t close = open == std::string::npos ? open : message.find('"', open + 1);
    if (close != std::string::npos) {
      const std::string_view quoted = std::string_view(message).substr(open + 1, close - open - 1);
      const bool as_is = quoted.find('\\') == std::string_view::npos &&
                         !(quoted.size() >= 3 && quoted.substr(quoted.size() - 3) == "...");
      if (as_is && text.substr(column - 1, quoted.size()) != quoted) {
        Fail("the column is not where the quoted value starts", what + " in " + Show(text));
      }
    }
  }
  for (const char c : what) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) Fail("control character in the message", Show(what));
  }
}

// What holds for any list ReadTasks returns, whatever the model says.
void CheckList(const orchestrator::TaskList& list) {
  std::set<std::string_view> names(list.type_names.begin(), list.type_names.end());
  if (names.size() != list.type_names.size()) Fail("a task_type is stored twice");
  std::set<orchestrator::TaskId> ids;
  for (const orchestrator::Task& task : list.tasks) {
    if (task.type >= list.type_names.size()) Fail("task type index out of range");
    if (!ids.insert(task.id).second) Fail("a task_id is kept twice");
  }
  if (list.tasks.size() > list.rows) Fail("more tasks than rows");
}

// DropDuplicateTasks on every row the model read, duplicates included, against the obvious
// implementation: every id once, first occurrence kept, input order, count of rows dropped.
void CheckDropDuplicates(const std::vector<ModelTask>& rows) {
  std::vector<orchestrator::Task> tasks;
  std::vector<orchestrator::Task> expected;
  std::set<orchestrator::TaskId> seen;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    // The type is the row's index here, so that which row was kept shows.
    const orchestrator::Task task{rows[i].id, static_cast<std::uint32_t>(i)};
    tasks.push_back(task);
    if (seen.insert(task.id).second) expected.push_back(task);
  }
  const std::size_t dropped = orchestrator::DropDuplicateTasks(tasks);
  if (dropped != rows.size() - expected.size()) Fail("DropDuplicateTasks miscounted");
  if (tasks != expected) Fail("DropDuplicateTasks kept the wrong rows or order");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t physical_lines = 0;
  for (const char c : input) physical_lines += c == '\n';
  if (input.empty() || input.back() != '\n') ++physical_lines;

  Outcome outcome;
  try {
    outcome.list = orchestrator::ReadTasks(MemoryFile(data, size));
  } catch (const orchestrator::InputError& error) {
    CheckError(error, input, physical_lines);
    outcome.error_line = error.line();
    outcome.error = error.what();
    outcome.message = error.message();
  } catch (const std::exception& error) {
    Fail("an exception other than InputError escaped", error.what());
  } catch (...) {
    Fail("a non-std exception escaped");
  }
  for (const Mapping& mapping : live_mappings) {
    if (mapping.base != nullptr) Fail("the parser's buffer outlived ReadTasks");
  }
  static bool warned = false;
  if (mappings_made == 0 && !warned) {
    warned = true;
    std::fprintf(stderr,
                 "task_reader_fuzz: warning: no parser buffer of %zu bytes came through "
                 "__wrap__Znam; ASan allocates it, which is slow\n",
                 kParserBufferSize);
  }
  if (outcome.list) CheckList(*outcome.list);

  const ModelResult model = Model(input);
  CheckDropDuplicates(model.rows);
  const std::string disagreement = Disagreement(outcome, model);
  if (disagreement.empty()) return 0;
  Fail("the reader disagrees with the model",
       disagreement + "; model " + Describe(model) + "; " +
           (outcome.list ? "reader accepts " + std::to_string(outcome.list->rows) + " rows"
                         : "reader: " + outcome.error));
  return 0;
}

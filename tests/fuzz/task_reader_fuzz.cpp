// libFuzzer target: the tasks CSV reader (ReadTasks) and DropDuplicateTasks.
//
// The bytes are the whole file, read through a memfd the way the tool reads any descriptor.
// Checked on every input:
//   - ReadTasks returns or throws orchestrator::InputError; anything else escaping is a bug.
//   - An InputError reads "tasks.csv:LINE: message": the file name, a line from 1 to the
//     number of physical lines, a non-empty message, and no control characters at all
//     (hostile input is quoted, see QuoteForMessage).
//   - The outcome agrees with a small independent model of the documented format (below):
//     the same tasks (ids and types, in order) on success, the same line on an error.
//   - On success: each task_id once, at its first occurrence, in input order; rows counts
//     every data row; type indices are valid and type names distinct.
//   - DropDuplicateTasks on all the rows (duplicates included) leaves every id once, keeps
//     the first occurrence of each in input order, and returns the number of rows dropped.
#include <sanitizer/asan_interface.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <string_view>
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
// The model: what the README and task_reader.h promise, written independently of src/.
// Quote handling follows fast-cpp-csv-parser's double_quote_escape (a quote anywhere in a
// field opens a quoted run up to the next lone quote; a field is unquoted only when it
// starts and ends with a quote after trimming), since that is the reader the tool is built
// on. Line numbers are physical lines; the header is the first non-blank line.

struct ModelTask {
  std::uint64_t id;
  std::string type;
};

struct ModelResult {
  std::size_t error_line = 0;  // 0: accepted
  std::vector<ModelTask> tasks;
};

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

std::string Unquote(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::string(s);
  s = s.substr(1, s.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"' && i + 1 < s.size() && s[i + 1] == '"') ++i;
    out += s[i];
  }
  return out;
}

// Splits a line into raw fields; nullopt if a quoted run is not closed on the line.
std::optional<std::vector<std::string_view>> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = start;
    while (pos < line.size() && line[pos] != ',') {
      if (line[pos] != '"') {
        ++pos;
        continue;
      }
      do {
        ++pos;
        while (true) {
          if (pos >= line.size()) return std::nullopt;
          if (line[pos] == '"') break;
          ++pos;
        }
        ++pos;
      } while (pos < line.size() && line[pos] == '"');
    }
    fields.push_back(line.substr(start, pos - start));
    if (pos >= line.size()) return fields;
    start = pos + 1;
  }
}

std::optional<std::uint64_t> ModelId(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  unsigned __int128 value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > UINT64_MAX) return std::nullopt;
  }
  return static_cast<std::uint64_t>(value);
}

ModelResult Model(std::string_view input) {
  ModelResult result;

  // Byte-level problems: a NUL, a CR followed by anything but LF, a line over the limit.
  std::size_t source_error = 0;
  {
    std::size_t line = 1, length = 0;
    for (std::size_t i = 0; i < input.size(); ++i) {
      const char c = input[i];
      if (i > 0 && input[i - 1] == '\r' && c != '\n') {
        source_error = line;
        break;
      }
      if (c == '\n') {
        ++line;
        length = 0;
      } else if (c == '\0' || ++length > orchestrator::kMaxLineLength) {
        source_error = line;
        break;
      }
    }
  }

  std::string_view text = input;
  if (source_error != 1 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  bool have_header = false;
  std::size_t columns = 0;
  std::optional<std::size_t> id_column, type_column;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    if (source_error != 0 && line_number >= source_error) break;
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (Trim(line).empty()) continue;  // blank lines are skipped, before the header too

    const auto fields = SplitFields(line);
    if (!fields) {
      result.error_line = line_number;
      return result;
    }
    if (!have_header) {
      for (std::size_t k = 0; k < fields->size(); ++k) {
        const std::string name = Unquote(Trim((*fields)[k]));
        auto* slot = name == "task_id" ? &id_column : name == "task_type" ? &type_column : nullptr;
        if (slot == nullptr) continue;
        if (*slot) {  // a column named twice
          result.error_line = line_number;
          return result;
        }
        *slot = k;
      }
      if (!id_column) {
        result.error_line = line_number;
        return result;
      }
      columns = fields->size();
      have_header = true;
      continue;
    }
    if (fields->size() != columns) {
      result.error_line = line_number;
      return result;
    }
    const auto id = ModelId(Unquote(Trim((*fields)[*id_column])));
    if (!id) {
      result.error_line = line_number;
      return result;
    }
    result.tasks.push_back(
        {*id, type_column ? Unquote(Trim((*fields)[*type_column])) : std::string()});
  }
  if (source_error != 0) {
    result.tasks.clear();
    result.error_line = source_error;
  }
  return result;
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

void CheckError(const orchestrator::InputError& error, std::size_t physical_lines,
                const ModelResult& model) {
  const std::string what = error.what();
  const std::string prefix = std::string(kFileName) + ":";
  if (what.compare(0, prefix.size(), prefix) != 0)
    Fail("message does not start with tasks.csv:", what);
  std::size_t pos = prefix.size();
  std::size_t line = 0;
  const std::size_t digits_start = pos;
  while (pos < what.size() && what[pos] >= '0' && what[pos] <= '9' && pos - digits_start < 20) {
    line = line * 10 + static_cast<std::size_t>(what[pos] - '0');
    ++pos;
  }
  if (pos == digits_start || what[digits_start] == '0') Fail("message has no line number", what);
  if (what.compare(pos, 2, ": ") != 0 || pos + 2 >= what.size()) {
    Fail("message is not FILE:LINE: text", what);
  }
  if (error.file() != kFileName || error.line() != line || error.message().empty()) {
    Fail("InputError fields disagree with its message", what);
  }
  if (line > physical_lines) {
    Fail("error names a line past the end of the input",
         what + " (input has " + std::to_string(physical_lines) + " lines)");
  }
  for (const char c : what) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) Fail("control character in the message", Show(what));
  }
  if (model.error_line == 0) Fail("rejected an input the model accepts", what);
  if (model.error_line != line) {
    Fail("error on a different line than the model's",
         what + " (model: line " + std::to_string(model.error_line) + ")");
  }
}

void CheckTasks(const orchestrator::TaskList& list, const ModelResult& model) {
  if (model.error_line != 0) {
    Fail("accepted an input the model rejects", "model: line " + std::to_string(model.error_line));
  }
  // ReadTasks keeps each task_id once, at its first occurrence; rows counts every data row.
  std::vector<ModelTask> unique;
  {
    std::set<std::uint64_t> seen;
    for (const ModelTask& task : model.tasks) {
      if (seen.insert(task.id).second) unique.push_back(task);
    }
  }
  if (list.rows != model.tasks.size()) {
    Fail("rows differs from the model's data rows",
         std::to_string(list.rows) + " vs " + std::to_string(model.tasks.size()));
  }
  if (list.tasks.size() != unique.size()) {
    Fail("unique task count differs from the model",
         std::to_string(list.tasks.size()) + " vs " + std::to_string(unique.size()));
  }
  std::set<std::string_view> names(list.type_names.begin(), list.type_names.end());
  if (names.size() != list.type_names.size()) Fail("a task_type is stored twice");
  for (std::size_t i = 0; i < list.tasks.size(); ++i) {
    const orchestrator::Task& task = list.tasks[i];
    if (task.type >= list.type_names.size()) Fail("task type index out of range");
    if (task.id != unique[i].id || list.TypeName(task) != unique[i].type) {
      Fail("task differs from the model",
           "task " + std::to_string(i) + ": " + std::to_string(task.id) + ",\"" +
               Show(list.TypeName(task)) + "\" vs " + std::to_string(unique[i].id) + ",\"" +
               Show(unique[i].type) + "\"");
    }
  }
}

// DropDuplicateTasks on every row the model read, duplicates included, against the obvious
// implementation: every id once, first occurrence kept, input order, count of rows dropped.
void CheckDropDuplicates(const ModelResult& model) {
  std::vector<orchestrator::Task> tasks;
  std::vector<orchestrator::Task> expected;
  std::set<orchestrator::TaskId> seen;
  for (std::size_t i = 0; i < model.tasks.size(); ++i) {
    // The type is the row's index here, so that which row was kept shows.
    const orchestrator::Task task{model.tasks[i].id, static_cast<std::uint32_t>(i)};
    tasks.push_back(task);
    if (seen.insert(task.id).second) expected.push_back(task);
  }
  const std::size_t dropped = orchestrator::DropDuplicateTasks(tasks);
  if (dropped != model.tasks.size() - expected.size()) Fail("DropDuplicateTasks miscounted");
  if (tasks != expected) Fail("DropDuplicateTasks kept the wrong rows or order");
  std::set<orchestrator::TaskId> ids;
  for (const orchestrator::Task& task : tasks) {
    if (!ids.insert(task.id).second) Fail("duplicate id after DropDuplicateTasks");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t physical_lines = 0;
  for (const char c : input) physical_lines += c == '\n';
  if (input.empty() || input.back() != '\n') ++physical_lines;

  const ModelResult model = Model(input);
  CheckDropDuplicates(model);
  try {
    const orchestrator::TaskList list = orchestrator::ReadTasks(MemoryFile(data, size));
    CheckTasks(list, model);
  } catch (const orchestrator::InputError& error) {
    CheckError(error, physical_lines, model);
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
  return 0;
}

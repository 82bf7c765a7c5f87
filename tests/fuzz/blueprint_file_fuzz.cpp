// libFuzzer target: the blueprint file reader (ParseBlueprintFile).
//
// The bytes are the file. Checked on every input:
//   - It either returns a BlueprintFile or throws InputError; nothing else escapes (toml++'s
//     parse errors included), and nothing crashes or leaks (ASan, UBSan).
//   - An InputError names the file, says FILE:LINE:COLUMN whenever it has a line (1-based, the
//     column too), and its message has no control character.
//   - What is returned holds what the reader promises: at least one kind, each with a name,
//     1 to 255 steps, step names unique and non-empty, every column name unique, every
//     template slot (a delay's column) within the kind's columns and of type duration, every
//     fetch with a timeout above 0 and retries from 0 to 100, expected statuses from 100 to 599.
//   - Reading the same text twice gives the same kinds and step names (no hidden state).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "orchestrator/blueprint_file.h"
#include "orchestrator/input_error.h"

namespace {

using namespace orchestrator;

[[noreturn]] void Fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "\nblueprint_file_fuzz: %s%s%s\n", what, detail.empty() ? "" : ": ",
               detail.c_str());
  __builtin_trap();
}

bool HasControl(std::string_view text) {
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) return true;
  }
  return false;
}

void CheckFetch(const FetchStep& fetch) {
  if (fetch.timeout <= Duration(0)) Fail("a fetch with no time");
  if (fetch.connect_timeout <= Duration(0)) Fail("a fetch with no connect time");
  if (fetch.retry.max_retries < 0 || fetch.retry.max_retries > 100) Fail("retries out of range");
  for (const int status : fetch.expect) {
    if (status < 100 || status > 599) Fail("an expected status out of range");
  }
}

void Check(const BlueprintFile& file) {
  if (file.kinds.empty()) Fail("no kinds");
  std::set<std::string> kinds;
  for (const Blueprint& kind : file.kinds) {
    if (kind.name.empty()) Fail("a kind without a name");
    if (!kinds.insert(kind.name).second) Fail("a kind twice", kind.name);
    if (kind.steps.empty() || kind.steps.size() > 255) Fail("steps out of range");
    std::set<std::string> names;
    for (const ColumnSpec& column : kind.columns) {
      if (!names.insert(column.name).second) Fail("a column twice", column.name);
    }
    names.clear();
    for (const Step& step : kind.steps) {
      if (step.name.empty()) Fail("a step without a name");
      if (!names.insert(step.name).second) Fail("a step name twice", step.name);
      if (const auto* fetch = std::get_if<FetchStep>(&step.action)) CheckFetch(*fetch);
      if (const auto* delay = std::get_if<DelayStep>(&step.action); delay && delay->column) {
        if (*delay->column < kFirstColumnSlot ||
            *delay->column - kFirstColumnSlot >= kind.columns.size()) {
          Fail("a delay's column out of range");
        }
        if (kind.columns[*delay->column - kFirstColumnSlot].type != ColumnType::kDuration) {
          Fail("a delay's column is no duration");
        }
      }
    }
  }
  if (file.Find(file.kinds[0].name) != &file.kinds[0]) Fail("Find misses the first kind");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const BlueprintFile file = ParseBlueprintFile(text, "kinds.toml");
    Check(file);
    const BlueprintFile again = ParseBlueprintFile(text, "kinds.toml");
    if (again.kinds.size() != file.kinds.size()) Fail("a second read differs");
    for (std::size_t k = 0; k < file.kinds.size(); ++k) {
      if (again.kinds[k].name != file.kinds[k].name ||
          again.kinds[k].steps.size() != file.kinds[k].steps.size()) {
        Fail("a second read differs");
      }
    }
  } catch (const InputError& error) {
    const std::string what = error.what();
    if (error.file() != "kinds.toml" || !what.starts_with("kinds.toml:")) {
      Fail("an error that does not name the file", what);
    }
    if (error.line() > 0 && error.column() == 0) Fail("a line without a column", what);
    if (HasControl(error.message())) Fail("a control character in a message", what);
  }
  return 0;
}

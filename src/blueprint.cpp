#include "orchestrator/blueprint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "orchestrator/input_error.h"
#include "orchestrator/overloaded.h"

namespace orchestrator {
namespace {

// --data-file: the whole file, as a body template. Read once, before anything runs.
Template ReadBodyTemplate(const std::string& path, std::span<const Capture> captures) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw InputError(path, 0, fmt::format("cannot open the --data-file: {}", std::strerror(errno)));
  std::string text;
  struct stat info {};
  int error = ::fstat(fd, &info) != 0 ? errno : S_ISDIR(info.st_mode) ? EISDIR : 0;
  char buffer[64 * 1024];
  while (error == 0) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got == 0) break;
    if (got > 0) {
      text.append(buffer, static_cast<std::size_t>(got));
    } else if (errno != EINTR) {
      error = errno;
    }
  }
  ::close(fd);
  if (error != 0)
    throw InputError(path, 0, fmt::format("cannot read the --data-file: {}", std::strerror(error)));
  auto parsed = ParseBuiltinTemplate(text, TemplateContext::kBody, captures);
  if (auto* problem = std::get_if<Template::Error>(&parsed)) {
    // Where, as an editor counts: 1-based line and byte column.
    const std::string_view before = std::string_view(text).substr(0, problem->offset);
    const std::size_t line_start = before.rfind('\n');
    const std::size_t line =
        1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
    const std::size_t column =
        problem->offset - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
    throw InputError(path, line, column,
                     problem->message + " (--data-file is a template: {task_id}, {task_type})");
  }
  return std::get<Template>(std::move(parsed));
}

// Notes in `blueprint` the values of dependencies its fetches' templates name: the capture
// columns of {dep.NAME}, each once, and whether it names any (Blueprint::dependency_columns,
// uses_dependency_values). NAME is one of the fetch's own captures: the built-in blueprint
// has one fetch, and a task's dependencies run it too.
void NoteDependencyValues(Blueprint& blueprint) {
  for (const Step& step : blueprint.steps) {
    const auto* fetch = std::get_if<FetchStep>(&step.action);
    if (fetch == nullptr) continue;
    const auto note = [&](const Template& text) {
      text.ForEachSlot([&](std::size_t slot) {
        if (slot < kFirstDependencySlot) return;
        blueprint.uses_dependency_values = true;
        if (slot >= kFirstDependenciesSlot) return;
        const std::size_t column = slot - kFirstDependencySlot;
        for (const Blueprint::DependencyColumn& used : blueprint.dependency_columns) {
          if (used.column == column) return;
        }
        for (const Capture& capture : fetch->captures) {
          if (capture.column == column)
            blueprint.dependency_columns.push_back({column, capture.name});
        }
      });
    };
    note(fetch->url);
    for (const Header& header : fetch->headers) note(header.value);
    if (fetch->body) note(*fetch->body);
    if (fetch->save) note(*fetch->save);
  }
}

}  // namespace

void SetCaptures(FetchStep& step, std::vector<Capture> captures) {
  step.captures = std::move(captures);
  step.keep = PartsFor(step.captures, step.max_body.value_or(kDefaultCaptureBodyLimit));
}

std::string_view StepKindName(const StepAction& action) {
  return std::visit(Overloaded{[](const FetchStep&) { return std::string_view("fetch"); },
                               [](const DelayStep&) { return std::string_view("delay"); },
                               [](const EmitStep&) { return std::string_view("emit"); }},
                    action);
}

std::optional<std::size_t> SlotOf(const Blueprint& blueprint, std::string_view name) {
  if (name == "task_id") return kTaskIdSlot;
  if (name == "task_type") return kTaskTypeSlot;
  for (std::size_t k = 0; k < blueprint.columns.size(); ++k) {
    if (blueprint.columns[k].name == name) return kFirstColumnSlot + k;
  }
  return std::nullopt;
}

std::variant<Template, Template::Error> ParseBuiltinTemplate(std::string_view text,
                                                             TemplateContext context,
                                                             std::span<const Capture> captures) {
  std::vector<std::string> known{"task_id", "task_type"};
  for (const Capture& capture : captures) known.push_back("dep." + capture.name);
  return Template::Parse(
      text, context,
      [captures](std::string_view name) -> std::optional<std::size_t> {
        if (name == "task_id") return kTaskIdSlot;
        if (name == "task_type") return kTaskTypeSlot;
        // The values of the dependencies, which run this blueprint too.
        const bool all = name.starts_with("deps.");
        if (!all && !name.starts_with("dep.")) return std::nullopt;
        const std::string_view capture_name = name.substr(all ? 5 : 4);
        for (const Capture& capture : captures) {
          if (capture.name == capture_name) {
            return (all ? kFirstDependenciesSlot : kFirstDependencySlot) + capture.column;
          }
        }
        return std::nullopt;
      },
      known);
}

std::variant<Template, Template::Error> ParseUrlTemplate(std::string_view url,
                                                         std::span<const Capture> captures) {
  return ParseBuiltinTemplate(url, TemplateContext::kUrl, captures);
}

FetchStep GetOf(std::string_view url, std::span<const Capture> captures) {
  auto parsed = ParseUrlTemplate(url, captures);
  if (const auto* error = std::get_if<Template::Error>(&parsed)) {
    throw std::invalid_argument(error->message);
  }
  FetchStep fetch;
  fetch.url = std::get<Template>(std::move(parsed));
  return fetch;
}

FetchStep FetchOf(std::string_view url, const RequestFlags& flags) {
  FetchStep fetch = GetOf(url, flags.captures);
  fetch.headers = flags.headers;
  fetch.body = flags.body;
  if (!flags.body_file.empty()) fetch.body = ReadBodyTemplate(flags.body_file, flags.captures);
  // curl's rule: a body without -X is a POST.
  fetch.method = flags.method.value_or(fetch.body ? HttpMethod::kPost : HttpMethod::kGet);
  fetch.save = flags.save;
  return fetch;
}

std::optional<std::string> SavePathProblem(std::string_view save, bool anywhere) {
  if (save.empty()) return "the path is empty";
  if (save.back() == '/') return "the path names a folder; end it with a file name";
  if (anywhere) return std::nullopt;
  if (save.front() == '/') {
    return "an absolute path leaves the current folder (--save-anywhere allows it)";
  }
  for (std::size_t start = 0; start <= save.size();) {
    std::size_t end = save.find('/', start);
    if (end == std::string_view::npos) end = save.size();
    if (save.substr(start, end - start) == "..") {
      return "a path with \"..\" leaves the current folder (--save-anywhere allows it)";
    }
    start = end + 1;
  }
  return std::nullopt;
}

Blueprint DefaultBlueprint(FetchStep fetch, Duration delay) {
  Blueprint blueprint;
  blueprint.name = std::string(1, '*');  // not = "*": GCC 12 warns falsely (-Wrestrict, PR105329)
  blueprint.steps.push_back({"fetch_data", std::move(fetch)});
  blueprint.steps.push_back({"long_delay", DelayStep{delay, std::nullopt}});
  blueprint.steps.push_back({"emit_event", EmitStep{}});
  NoteDependencyValues(blueprint);
  return blueprint;
}

}  // namespace orchestrator

// What the runner does for a task of one kind: an ordered list of steps, as data.
#ifndef ORCHESTRATOR_BLUEPRINT_H_
#define ORCHESTRATOR_BLUEPRINT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "orchestrator/capture.h"
#include "orchestrator/column.h"
#include "orchestrator/duration.h"
#include "orchestrator/retry_policy.h"
#include "orchestrator/template.h"

namespace orchestrator {

/// Template slots: what a placeholder of a blueprint can name. Slot 0 is the task_id, 1 its
/// task_type, 2 + k the blueprint's column k, kFirstCaptureSlot + c the value the task's
/// earlier steps captured for the run's capture column c, kFirstDependencySlot + c the value
/// the one dependency that captured c has (`{dep.NAME}`), kFirstDependenciesSlot + c a JSON
/// array of every dependency's value of c (`{deps.NAME}`).
inline constexpr std::size_t kTaskIdSlot = 0;
inline constexpr std::size_t kTaskTypeSlot = 1;
inline constexpr std::size_t kFirstColumnSlot = 2;
inline constexpr std::size_t kFirstCaptureSlot = std::size_t{1} << 20;
inline constexpr std::size_t kFirstDependencySlot = std::size_t{2} << 20;
inline constexpr std::size_t kFirstDependenciesSlot = std::size_t{3} << 20;

/// The most webhooks a blueprint may have for one event.
inline constexpr std::size_t kMaxWebhooksPerEvent = 16;

/// A typed column the rows of a kind carry (`columns = { size = "u32" }`).
struct ColumnSpec {
  std::string name;
  ColumnType type = ColumnType::kString;
};

struct Header {
  std::string name;
  Template value;  ///< TemplateContext::kHeader
};

/// An HTTP request, filled in from the task's row when it is about to be sent. Success is a
/// status in `expect` (any 2xx when empty) with the whole body read.
struct FetchStep {
  HttpMethod method = HttpMethod::kGet;
  Template url;  ///< TemplateContext::kUrl
  std::vector<Header> headers;
  std::optional<Template> body;  ///< TemplateContext::kBody
  std::vector<int> expect;
  Duration timeout{10'000};          ///< Limits each attempt as a whole, body included.
  Duration connect_timeout{10'000};  ///< Limits the connect phase of each attempt.
  RetryPolicy retry;
  std::optional<std::uint64_t> max_body;  ///< Fail a larger response body; none: no limit.
  /// What the task's row takes from the response (`capture = { price = "json:/price" }`),
  /// once the fetch succeeded. Set with SetCaptures, which sets `keep` too.
  std::vector<Capture> captures;
  ResponseParts keep;  ///< What the response must keep for `captures`.
  /// The file a successful response's body is written to (`save = "bodies/{task_id}.json"`,
  /// TemplateContext::kPath), whole or not at all (BodyFile).
  std::optional<Template> save;
};

/// Why `save`, a kPath template's text, may not be used without --save-anywhere: it is
/// absolute, or its text has a ".." part, so its files would not be under the current folder
/// (a value cannot move them: see TemplateContext::kPath). Or why it cannot be used at all:
/// it is empty or ends with a '/'. Nullopt when it is fine.
std::optional<std::string> SavePathProblem(std::string_view save, bool anywhere);

/// Gives `step` its captures, and what its responses must keep for them: a body up to its
/// max_body, or kDefaultCaptureBodyLimit without one.
void SetCaptures(FetchStep& step, std::vector<Capture> captures);

/// A pause: a fixed duration, or the value of a duration column. The task holds no
/// connection and no fetch slot while it waits.
struct DelayStep {
  Duration duration{5'000};
  std::optional<std::size_t> column;  ///< A template slot: the delay is this column's value.
};

/// One line on stderr: `text` filled in, or the line naming the task when there is none.
struct EmitStep {
  std::optional<Template> text;  ///< TemplateContext::kText
};

/// What a step does. Code that acts on a step visits it with an Overloaded set that handles
/// every alternative, so a new kind of step is a compile error wherever it is not handled.
using StepAction = std::variant<FetchStep, DelayStep, EmitStep>;

struct Step {
  std::string name;  ///< As the blueprint calls it: "fetch_data", "store"...
  StepAction action;
};

/// The kind of step, as a blueprint file writes its key and the events file its "kind":
/// "fetch", "delay" or "emit".
std::string_view StepKindName(const StepAction& action);

/// The steps every task of a kind goes through, in order. A failed step ends the task.
struct Blueprint {
  std::string name;                 ///< The task_type it is for; "*" for every other one.
  std::vector<ColumnSpec> columns;  ///< Template slots kFirstColumnSlot and on.
  std::vector<Step> steps;
  /// Whether error_info starts with the failed step's name (`store: HTTP 409 Conflict`), as
  /// with a blueprint file; the built-in blueprint's reasons stand alone.
  bool step_names_in_errors = false;
  /// Webhooks (POST by default), each sent with the task's JSON record.
  std::vector<FetchStep> on_start;
  std::vector<FetchStep> on_success;
  std::vector<FetchStep> on_failure;
  /// Fetch attempts of this blueprint's tasks start at most this many a second, together.
  std::optional<double> rate;
  /// The capture columns its templates name as `{dep.NAME}`, each once: a task of it fails
  /// before it runs unless exactly one of its dependencies has a value for each.
  struct DependencyColumn {
    std::size_t column;  ///< of the run's capture columns
    std::string name;
  };
  std::vector<DependencyColumn> dependency_columns;
  /// Whether its templates name a value of its dependencies (`{dep.NAME}`, `{deps.NAME}`):
  /// its tasks are then given their parents' captured values.
  bool uses_dependency_values = false;
};

/// The slot of a placeholder name in `blueprint`: task_id, task_type or one of its columns.
std::optional<std::size_t> SlotOf(const Blueprint& blueprint, std::string_view name);

/// Parses `text` as a template of `context` that may name {task_id} and {task_type}, as the
/// built-in blueprint's flags are (--url, -H, -d, --data-file, --save), and the values the
/// task's dependencies captured as one of `captures` (--capture): {dep.NAME} and
/// {deps.NAME}. The template, or why not.
std::variant<Template, Template::Error> ParseBuiltinTemplate(
    std::string_view text, TemplateContext context, std::span<const Capture> captures = {});

/// Parses `url` as a URL template, as ParseBuiltinTemplate (the built-in blueprint's --url):
/// the template, or why not.
std::variant<Template, Template::Error> ParseUrlTemplate(std::string_view url,
                                                         std::span<const Capture> captures = {});

/// The built-in blueprint's request beyond its URL, in curl's words (-X, -H, -d, --data-file),
/// templates parsed by ParseBuiltinTemplate.
struct RequestFlags {
  std::optional<HttpMethod> method;  ///< -X; none: GET, or POST when there is a body (as curl)
  std::vector<Header> headers;       ///< -H, in order
  std::optional<Template> body;      ///< -d (TemplateContext::kBody)
  std::string body_file;             ///< --data-file: the body is this file, a template too
  std::vector<Capture> captures;     ///< --capture, in order; Capture::column is its index
  std::optional<Template> save;      ///< --save (TemplateContext::kPath)
};

/// A GET of `url` (see ParseUrlTemplate) with the default settings. Throws
/// std::invalid_argument when `url` does not parse: check it first.
FetchStep GetOf(std::string_view url, std::span<const Capture> captures = {});

/// The built-in blueprint's fetch: GetOf(url) with the method, headers and body of `flags`.
/// Reads `flags.body_file` when there is one: an InputError naming it when it cannot be read or
/// is not a template (FILE:LINE:COLUMN). Throws std::invalid_argument as GetOf does.
FetchStep FetchOf(std::string_view url, const RequestFlags& flags);

/// The seeds' blueprint: fetch_data (GET `fetch.url`), long_delay, emit_event; with the
/// dependencies' values its templates name noted (Blueprint::dependency_columns), by the
/// names of `fetch.captures`.
Blueprint DefaultBlueprint(FetchStep fetch, Duration delay);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_BLUEPRINT_H_

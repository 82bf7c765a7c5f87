// Reading a blueprint file: TOML (toml++) in, our own types out, every mistake with its place.
#include "orchestrator/blueprint_file.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

// toml++ 3.3 asserts an invariant of its own that input such as "[[[a" breaks
// (parser.inl, parse_key: found by tests/fuzz/blueprint_file_fuzz.cpp). Release builds compile
// the assertion out and report a parse error, as they should; the same here in every build,
// rather than an abort on a malformed file.
#define TOML_ASSERT(expr) static_assert(true)
#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include "orchestrator/byte_size.h"
#include "orchestrator/input_error.h"
#include "orchestrator/retry_policy.h"

namespace orchestrator {
namespace {

constexpr std::size_t kMaxSteps = 255;
constexpr int kMaxRetries = 100;

struct MethodName {
  HttpMethod method;
  std::string_view name;
};
constexpr MethodName kMethods[] = {
    {HttpMethod::kGet, "GET"}, {HttpMethod::kHead, "HEAD"},   {HttpMethod::kPost, "POST"},
    {HttpMethod::kPut, "PUT"}, {HttpMethod::kPatch, "PATCH"}, {HttpMethod::kDelete, "DELETE"},
};

// A message with every control character written as \xNN: a key, a type's name or toml++'s
// own description may carry any byte of the file, and a terminal must not act on it.
std::string Printable(std::string_view text) {
  std::string shown;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      shown += fmt::format("\\x{:02x}", byte);
    } else {
      shown += c;
    }
  }
  return shown;
}

// A table's entries in the order the file has them: toml++ keeps a table's keys sorted, and
// kinds, columns and error messages should follow the file.
std::vector<std::pair<const toml::key*, const toml::node*>> InFileOrder(const toml::table& table) {
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (const auto& [key, node] : table) entries.emplace_back(&key, &node);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const toml::source_position& x = a.first->source().begin;
    const toml::source_position& y = b.first->source().begin;
    return x.line != y.line ? x.line < y.line : x.column < y.column;
  });
  return entries;
}

// Turns toml++ nodes into our types. Every check throws an InputError at the place in the
// file it is about.
class Reader {
 public:
  Reader(std::string path, const FetchSettings& command_line)
      : path_(std::move(path)), command_line_(command_line) {}

  BlueprintFile Read(const toml::table& root) {
    BlueprintFile file;
    file.path = path_;
    // [defaults] first, wherever it stands: every fetch below falls back on it.
    if (const toml::node* defaults = root.get("defaults")) {
      defaults_ = Settings(Table(*defaults, "[defaults]"), "[defaults]", nullptr);
    }
    const toml::node* types = nullptr;
    for (const auto& [key_ptr, node_ptr] : InFileOrder(root)) {
      const toml::key& key = *key_ptr;
      const toml::node& node = *node_ptr;
      if (key == "defaults") {
        continue;
      } else if (key == "types") {
        types = &node;
      } else {
        Unknown(key, "at the top of the file", {"defaults", "types"});
      }
    }
    if (types == nullptr) Fail(root.source(), "no task types: the file needs a [types.NAME] table");
    const toml::table& kinds = Table(*types, "types");
    if (kinds.empty()) Fail(types->source(), "no task types: [types] is empty");
    for (const auto& [name_ptr, node_ptr] : InFileOrder(kinds)) {
      const toml::key& name = *name_ptr;
      const toml::node& node = *node_ptr;
      if (name.str().empty()) Fail(name.source(), "a task type needs a name");
      file.kinds.push_back(Kind(std::string(name.str()), Table(node, "a task type")));
    }
    return file;
  }

 private:
  [[noreturn]] void Fail(const toml::source_region& where, const std::string& message) const {
    throw InputError(path_, where.begin.line, where.begin.column, Printable(message));
  }

  [[noreturn]] void Unknown(const toml::key& key, std::string_view where,
                            std::initializer_list<std::string_view> known) const {
    Fail(key.source(), fmt::format("unknown key {} {} (known: {})", QuoteForMessage(key.str()),
                                   where, fmt::join(known, ", ")));
  }

  const toml::table& Table(const toml::node& node, std::string_view what) const {
    const toml::table* table = node.as_table();
    if (table == nullptr) Fail(node.source(), fmt::format("{} must be a table", what));
    return *table;
  }

  const std::string& String(const toml::node& node, std::string_view what) const {
    const auto* value = node.as_string();
    if (value == nullptr) Fail(node.source(), fmt::format("{} must be a string", what));
    return value->get();
  }

  std::int64_t Integer(const toml::node& node, std::string_view what) const {
    const auto* value = node.as_integer();
    if (value == nullptr) Fail(node.source(), fmt::format("{} must be an integer", what));
    return value->get();
  }

  Duration DurationOf(const toml::node& node, std::string_view what) const {
    const std::string& text = String(node, what);
    const std::optional<Duration> duration = ParseDuration(text);
    if (!duration) {
      Fail(node.source(), fmt::format("{}: {} is not a duration (250ms, 1.5s, 5s, 1m, 2h)", what,
                                      QuoteForMessage(text)));
    }
    return *duration;
  }

  // timeout, connect_timeout, retries, retry_delay, max_body: in [defaults], a fetch step or
  // a webhook. `other` handles the keys this table has besides (nullptr: none).
  template <typename Other>
  FetchSettings Settings(const toml::table& table, std::string_view where, Other other,
                         std::initializer_list<std::string_view> other_keys = {}) {
    FetchSettings settings;
    for (const auto& [key_ptr, node_ptr] : InFileOrder(table)) {
      const toml::key& key = *key_ptr;
      const toml::node& node = *node_ptr;
      const std::string what = fmt::format("{}", key.str());
      if (key == "timeout" || key == "connect_timeout") {
        const Duration value = DurationOf(node, what);
        if (value <= Duration(0)) Fail(node.source(), fmt::format("{} must be above 0", what));
        (key == "timeout" ? settings.timeout : settings.connect_timeout) = value;
      } else if (key == "retries") {
        const std::int64_t value = Integer(node, what);
        if (value < 0 || value > kMaxRetries) {
          Fail(node.source(), fmt::format("retries must be 0 to {}", kMaxRetries));
        }
        settings.retries = static_cast<int>(value);
      } else if (key == "retry_delay") {
        const Duration value = DurationOf(node, what);
        if (value > RetryPolicy{}.max_retry_after) {
          Fail(node.source(), fmt::format("retry_delay is at most {}",
                                          FormatDuration(RetryPolicy{}.max_retry_after)));
        }
        settings.retry_delay = value;
      } else if (key == "max_body") {
        settings.max_body = MaxBody(node);
      } else if constexpr (!std::is_same_v<Other, std::nullptr_t>) {
        if (!other(key, node)) UnknownSetting(key, where, other_keys);
      } else {
        UnknownSetting(key, where, other_keys);
      }
    }
    return settings;
  }

  [[noreturn]] void UnknownSetting(const toml::key& key, std::string_view where,
                                   std::initializer_list<std::string_view> other_keys) const {
    std::vector<std::string_view> known(other_keys);
    for (std::string_view setting :
         {"timeout", "connect_timeout", "retries", "retry_delay", "max_body"}) {
      known.push_back(setting);
    }
    Fail(key.source(), fmt::format("unknown key {} in {} (known: {})", QuoteForMessage(key.str()),
                                   where, fmt::join(known, ", ")));
  }

  std::uint64_t MaxBody(const toml::node& node) const {
    if (const auto* number = node.as_integer()) {
      if (number->get() <= 0) Fail(node.source(), "max_body must be above 0");
      return static_cast<std::uint64_t>(number->get());
    }
    const std::string& text = String(node, "max_body");
    const std::optional<std::uint64_t> size = ParseByteSize(text);
    if (!size || *size == 0) {
      Fail(node.source(), fmt::format("max_body: {} is not a size above 0 (512k, 10M, 1G)",
                                      QuoteForMessage(text)));
    }
    return *size;
  }

  Blueprint Kind(std::string name, const toml::table& table) {
    Blueprint kind;
    kind.name = std::move(name);
    kind.step_names_in_errors = true;
    kind_ = &kind;
    const std::string where = fmt::format("[types.{}]", kind.name);
    // Columns first, wherever they stand: the steps' placeholders name them.
    if (const toml::node* columns = table.get("columns")) kind.columns = Columns(*columns);
    const Template::Resolve resolve = [&kind](std::string_view placeholder) {
      return SlotOf(kind, placeholder);
    };
    const toml::node* steps = nullptr;
    for (const auto& [key_ptr, node_ptr] : InFileOrder(table)) {
      const toml::key& key = *key_ptr;
      const toml::node& node = *node_ptr;
      if (key == "columns") continue;
      if (key == "steps") {
        steps = &node;
      } else if (key == "on_start" || key == "on_success" || key == "on_failure") {
        auto& hooks = key == "on_start"     ? kind.on_start
                      : key == "on_success" ? kind.on_success
                                            : kind.on_failure;
        hooks = Webhooks(node, key.str(), resolve);
        // Read and checked, but the runner does not send them yet: refuse rather than let a
        // user believe they were sent.
        Fail(key.source(), fmt::format("{}: webhooks are not sent by this version yet; remove "
                                       "it (the file is read, the rest is checked)",
                                       key.str()));
      } else {
        Unknown(key, fmt::format("in {}", where),
                {"columns", "steps", "on_start", "on_success", "on_failure"});
      }
    }
    if (steps == nullptr) Fail(table.source(), fmt::format("{} has no steps", where));
    const toml::array* list = steps->as_array();
    if (list == nullptr) Fail(steps->source(), "steps must be an array of tables");
    if (list->empty()) Fail(steps->source(), "steps must not be empty");
    if (list->size() > kMaxSteps) {
      Fail(steps->source(), fmt::format("at most {} steps, not {}", kMaxSteps, list->size()));
    }
    std::set<std::string, std::less<>> names;
    for (const toml::node& node : *list) {
      orchestrator::Step step = Step(Table(node, "a step"), resolve);
      if (step.name.empty()) step.name = DefaultName(step, names);
      if (!names.insert(step.name).second) {
        Fail(node.source(),
             fmt::format("two steps named {} in {}", QuoteForMessage(step.name), where));
      }
      kind.steps.push_back(std::move(step));
    }
    return kind;
  }

  // An unnamed step is called after what it does: fetch, delay, emit; fetch_2 for the second.
  static std::string DefaultName(const orchestrator::Step& step,
                                 const std::set<std::string, std::less<>>& taken) {
    const std::string base = std::holds_alternative<FetchStep>(step.action)   ? "fetch"
                             : std::holds_alternative<DelayStep>(step.action) ? "delay"
                                                                              : "emit";
    if (!taken.contains(base)) return base;
    for (std::size_t n = 2;; ++n) {
      std::string name = fmt::format("{}_{}", base, n);
      if (!taken.contains(name)) return name;
    }
  }

  std::vector<ColumnSpec> Columns(const toml::node& node) const {
    std::vector<ColumnSpec> columns;
    for (const auto& [name_ptr, type_ptr] : InFileOrder(Table(node, "columns"))) {
      const toml::key& name = *name_ptr;
      const toml::node& type_node = *type_ptr;
      const std::string_view column = name.str();
      const bool valid =
          !column.empty() &&
          (std::isalpha(static_cast<unsigned char>(column[0])) || column[0] == '_') &&
          std::all_of(column.begin(), column.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
          });
      if (!valid) {
        Fail(name.source(), fmt::format("column name {} must be letters, digits and _, not "
                                        "starting with a digit",
                                        QuoteForMessage(column)));
      }
      if (column == "task_id" || column == "task_type") {
        Fail(name.source(), fmt::format("{} is always there; it is no column to declare", column));
      }
      const std::string& type_name =
          String(type_node, fmt::format("the type of column {}", column));
      const std::optional<ColumnType> type = ColumnTypeNamed(type_name);
      if (!type) {
        Fail(type_node.source(),
             fmt::format("column {}: unknown type {} (known: string, u32, u64, i64, f64, bool, "
                         "duration)",
                         column, QuoteForMessage(type_name)));
      }
      columns.push_back({std::string(column), *type});
    }
    return columns;
  }

  orchestrator::Step Step(const toml::table& table, const Template::Resolve& resolve) {
    orchestrator::Step step;
    const toml::node* action = nullptr;
    for (const auto& [key_ptr, node_ptr] : InFileOrder(table)) {
      const toml::key& key = *key_ptr;
      const toml::node& node = *node_ptr;
      if (key == "name") {
        step.name = String(node, "a step's name");
        if (step.name.empty()) Fail(node.source(), "a step's name must not be empty");
      } else if (key == "fetch" || key == "delay" || key == "emit") {
        if (action != nullptr) {
          Fail(key.source(), "a step does one thing: fetch, delay or emit, not two");
        }
        action = &node;
        if (key == "fetch") {
          step.action = Request(node, HttpMethod::kGet, "fetch", resolve, /*webhook=*/false);
        } else if (key == "delay") {
          step.action = Delay(node, resolve);
        } else {
          const std::string& text = String(node, "emit");
          step.action = EmitStep{text.empty() ? std::nullopt
                                              : std::optional<Template>(Parse(
                                                    node, text, TemplateContext::kText, resolve))};
        }
      } else {
        Unknown(key, "in a step", {"name", "fetch", "delay", "emit"});
      }
    }
    if (action == nullptr) Fail(table.source(), "a step needs one of fetch, delay or emit");
    return step;
  }

  Template Parse(const toml::node& node, const std::string& text, TemplateContext context,
                 const Template::Resolve& resolve) const {
    auto parsed = Template::Parse(text, context, resolve);
    if (auto* error = std::get_if<Template::Error>(&parsed)) {
      // The string's place in the file: its escapes make offsets inside it unreliable.
      Fail(node.source(), fmt::format("{} in {}", error->message, QuoteForMessage(text, 80)));
    }
    return std::get<Template>(std::move(parsed));
  }

  DelayStep Delay(const toml::node& node, const Template::Resolve& resolve) const {
    const std::string& text = String(node, "delay");
    if (text.size() > 2 && text.front() == '{' && text.back() == '}' &&
        text.find_first_of("{}", 1) == text.size() - 1) {
      const std::string_view name(text.data() + 1, text.size() - 2);
      const std::optional<std::size_t> slot = resolve(name);
      if (!slot || *slot < kFirstColumnSlot) {
        Fail(node.source(), fmt::format("delay {} names no column of this type", text));
      }
      if (kind_->columns[*slot - kFirstColumnSlot].type != ColumnType::kDuration) {
        Fail(node.source(), fmt::format("delay {}: the column is not of type duration", text));
      }
      return DelayStep{Duration(0), *slot};
    }
    return DelayStep{DurationOf(node, "delay"), std::nullopt};
  }

  HttpMethod Method(const toml::node& node) const {
    const std::string& text = String(node, "method");
    for (const MethodName& known : kMethods) {
      if (known.name == text) return known.method;
    }
    Fail(node.source(),
         fmt::format("unknown method {} (known: GET, HEAD, POST, PUT, PATCH, DELETE)",
                     QuoteForMessage(text)));
  }

  // A fetch step's `fetch` (a URL, or a table) or a webhook (a table), its settings taken
  // from itself, the command line, [defaults] or the built-in values, in that order.
  FetchStep Request(const toml::node& node, HttpMethod default_method, std::string_view what,
                    const Template::Resolve& resolve, bool webhook) {
    FetchStep fetch;
    fetch.method = default_method;
    if (const auto* url = node.as_string(); url != nullptr && !webhook) {
      fetch.url = Parse(node, url->get(), TemplateContext::kUrl, resolve);
      Resolve(fetch, {});
      return fetch;
    }
    const toml::table& table = Table(node, webhook ? "a webhook" : "fetch (a URL or a table)");
    bool has_url = false;
    const FetchSettings settings = Settings(
        table, what,
        [&](const toml::key& key, const toml::node& value) {
          if (key == "method") {
            fetch.method = Method(value);
          } else if (key == "url") {
            fetch.url = Parse(value, String(value, "url"), TemplateContext::kUrl, resolve);
            has_url = true;
          } else if (key == "headers") {
            for (const auto& [name_ptr, header_ptr] : InFileOrder(Table(value, "headers"))) {
              const toml::node& header = *header_ptr;
              fetch.headers.push_back(
                  {std::string(name_ptr->str()), Parse(header, String(header, "a header's value"),
                                                       TemplateContext::kHeader, resolve)});
            }
          } else if (key == "body" && !webhook) {
            fetch.body = Parse(value, String(value, "body"), TemplateContext::kBody, resolve);
          } else if (key == "expect" && !webhook) {
            fetch.expect = Expect(value);
          } else {
            return false;
          }
          return true;
        },
        webhook ? std::initializer_list<std::string_view>{"url", "method", "headers"}
                : std::initializer_list<std::string_view>{"url", "method", "headers", "body",
                                                          "expect"});
    if (!has_url) Fail(table.source(), fmt::format("{} needs a url", what));
    if (fetch.method == HttpMethod::kHead && fetch.body) {
      Fail(table.source(), "a HEAD request cannot send a body");
    }
    Resolve(fetch, settings);
    return fetch;
  }

  // Each setting from the first level that says it: the step, the command line, [defaults];
  // else FetchStep's built-in value stays.
  void Resolve(FetchStep& fetch, const FetchSettings& step) const {
    const auto pick = [](const auto& a, const auto& b, const auto& c) { return a ? a : b ? b : c; };
    if (auto v = pick(step.timeout, command_line_.timeout, defaults_.timeout)) fetch.timeout = *v;
    if (auto v =
            pick(step.connect_timeout, command_line_.connect_timeout, defaults_.connect_timeout)) {
      fetch.connect_timeout = *v;
    } else {
      fetch.connect_timeout = fetch.timeout;  // as --connect-timeout: the --timeout unless said
    }
    if (auto v = pick(step.retries, command_line_.retries, defaults_.retries)) {
      fetch.retry.max_retries = *v;
    }
    if (auto v = pick(step.retry_delay, command_line_.retry_delay, defaults_.retry_delay)) {
      fetch.retry.base_delay = *v;
    }
    if (auto v = pick(step.max_body, command_line_.max_body, defaults_.max_body)) {
      fetch.max_body = *v;
    }
  }

  std::vector<int> Expect(const toml::node& node) const {
    const toml::array* list = node.as_array();
    if (list == nullptr || list->empty()) {
      Fail(node.source(), "expect must be a list of HTTP statuses, like [200, 201]");
    }
    std::vector<int> statuses;
    for (const toml::node& item : *list) {
      const std::int64_t status = Integer(item, "an expected status");
      if (status < 100 || status > 599) {
        Fail(item.source(), fmt::format("{} is not an HTTP status (100 to 599)", status));
      }
      statuses.push_back(static_cast<int>(status));
    }
    return statuses;
  }

  std::vector<FetchStep> Webhooks(const toml::node& node, std::string_view event,
                                  const Template::Resolve& resolve) {
    const toml::array* list = node.as_array();
    if (list == nullptr) {
      Fail(node.source(),
           fmt::format("{} must be a list of webhooks, like [ {{ url = \"...\" }} ]", event));
    }
    std::vector<FetchStep> hooks;
    for (const toml::node& item : *list) {
      hooks.push_back(Request(item, HttpMethod::kPost, event, resolve, /*webhook=*/true));
    }
    return hooks;
  }

  std::string path_;
  const FetchSettings& command_line_;
  FetchSettings defaults_;
  const Blueprint* kind_ = nullptr;  // the kind being read
};

}  // namespace

TaskKindTable KindsOf(const BlueprintFile& file) {
  TaskKindTable kinds(file.path);
  for (const Blueprint& blueprint : file.kinds) {
    TaskKinds::Kind kind;
    for (const ColumnSpec& column : blueprint.columns) {
      kind.columns.push_back({column.name, column.type});
    }
    kinds.Add(blueprint.name, std::move(kind));
  }
  return kinds;
}

const Blueprint* BlueprintFile::Find(std::string_view task_type) const {
  const Blueprint* any = nullptr;
  for (const Blueprint& kind : kinds) {
    if (kind.name == task_type) return &kind;
    if (kind.name == "*") any = &kind;
  }
  return any;
}

BlueprintFile ParseBlueprintFile(std::string_view text, const std::string& path,
                                 const FetchSettings& command_line) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& error) {
    throw InputError(path, error.source().begin.line, error.source().begin.column,
                     Printable(error.description()));
  }
  return Reader(path, command_line).Read(root);
}

BlueprintFile ReadBlueprintFile(const std::string& path, const FetchSettings& command_line) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, std::string("cannot open: ") + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return ParseBlueprintFile(text.str(), path, command_line);
}

}  // namespace orchestrator

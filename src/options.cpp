#include "orchestrator/options.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "orchestrator/blueprint.h"
#include "orchestrator/byte_size.h"
#include "orchestrator/fallible.h"
#include "orchestrator/header_name.h"
#include "orchestrator/http_method_name.h"
#include "orchestrator/input_error.h"
#include "orchestrator/rate_limiter.h"
#include "orchestrator/retry_policy.h"
#include "orchestrator/running_limits.h"
#include "orchestrator/secrets.h"
#include "orchestrator/text.h"
#include "orchestrator/url.h"
#include "orchestrator/version_text.h"
#include "parse_error_words.h"

namespace orchestrator {
namespace {

constexpr std::string_view kDescription =
    "Runs every unique task of a CSV (columns task_id, task_type) through a blueprint: "
    "fetch_data (an HTTP GET of --url, or the request -X, -H and -d make, as in curl), "
    "long_delay (--delay), emit_event (a line on stderr). "
    "Tasks run concurrently; a result CSV (task_id,final_status,error_info) streams to "
    "stdout as they finish.";

constexpr std::string_view kFooter =
    "DURATION is 250ms, 1.5s, 5s, 1m, 2h, or a plain number of seconds.\n"
    "Exit status: 0 all tasks Completed, 1 some Failed, 2 usage or input error (nothing run),\n"
    "3 results could not be written, 128+N stopped by signal N (130 SIGINT, 143 SIGTERM),\n"
    "141 stdout was closed by its reader.\n"
    "orchestrator merge --help: one result CSV from the result files of a run's shards.";

// A duration option: text from CLI11, parsed by us for exact units and clear messages.
struct DurationOption {
  const char* flag;
  Duration* target;
  std::string text;
  bool zero_allowed;
};

CheckResult ApplyDuration(const DurationOption& option) {
  const std::optional<Duration> parsed = ParseDuration(option.text);
  if (!parsed) {
    return fmt::format("{}: invalid duration \"{}\" (examples: 250ms, 1.5s, 5s, 1m)", option.flag,
                       option.text);
  }
  if (*parsed == Duration(0) && !option.zero_allowed) {
    return fmt::format("{}: must be more than 0", option.flag);
  }
  if (*parsed > Duration(std::chrono::hours(24 * 365))) {
    return fmt::format("{}: {} is more than a year", option.flag, option.text);
  }
  *option.target = *parsed;
  return kPassed;
}

// -H 'Name: value', the value a header template: the header, or what is wrong. The value is
// never quoted: it may be a secret.
std::variant<Header, std::string> ParseHeaderFlag(std::string_view text, std::size_t number,
                                                  std::span<const Capture> captures) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return fmt::format("-H: header {} has no colon (write -H 'Name: value')", number);
  }
  const std::string_view name = text.substr(0, colon);
  if (const CheckResult checked = CheckHeaderName(name);
      const auto* problem = std::get_if<std::string>(&checked)) {
    return fmt::format("-H: header {} has {}", number, *problem);
  }
  auto value =
      ParseBuiltinTemplate(Trim(text.substr(colon + 1)), TemplateContext::kHeader, captures);
  if (auto* error = std::get_if<Template::Error>(&value)) {
    return fmt::format("-H {}: {}", name, error->message);
  }
  return Header{std::string(name), std::get<Template>(std::move(value))};
}

// What a usage error must not show: the value of each -H (and each word of it, see
// HeaderSecrets), however the flag was written.
std::vector<std::string> CommandLineSecrets(int argc, const char* const* argv) {
  std::vector<std::string_view> values;
  const auto add = [&](std::string_view header) {
    const std::size_t colon = header.find(':');
    values.push_back(colon == std::string_view::npos ? header : header.substr(colon + 1));
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--header" && i + 1 < argc) {
      add(argv[++i]);
    } else if (arg.starts_with("--header=")) {
      add(arg.substr(9));
    } else if (arg.starts_with('-') && !arg.starts_with("--")) {
      // -H VALUE, -HVALUE, and after other short flags: -kH VALUE, -qkHVALUE.
      const std::size_t flags = arg.find_first_not_of("hkq", 1);
      if (flags == std::string_view::npos || arg[flags] != 'H') continue;
      if (flags + 1 < arg.size()) {
        add(arg.substr(flags + 1));
      } else if (i + 1 < argc) {
        add(argv[++i]);
      }
    }
  }
  return HeaderSecrets(values, HeaderValues::kTemplates);
}

// `text` with every -H value masked, and the password of every URL in it (`user:***@`).
std::string Redact(std::string_view text, const std::vector<std::string>& secrets) {
  std::string masked;
  for (std::size_t i = 0; i < text.size();) {
    bool hit = false;
    for (const std::string& secret : secrets) {
      if (text.substr(i).starts_with(secret)) {
        masked += "***";
        i += secret.size();
        hit = true;
        break;
      }
    }
    if (!hit) masked += text[i++];
  }
  // scheme://user:password@host: the password goes, wherever the URL is quoted.
  for (std::size_t scheme = masked.find("://"); scheme != std::string::npos;
       scheme = masked.find("://", scheme + 3)) {
    const std::size_t start = scheme + 3;
    const std::size_t end = std::min(masked.find_first_of("/?#\"' \t\n", start), masked.size());
    const std::size_t at = masked.rfind('@', end == 0 ? 0 : end - 1);
    if (at == std::string::npos || at < start || at >= end) continue;
    const std::size_t colon = masked.find(':', start);
    if (colon == std::string::npos || colon > at ||
        masked.compare(colon + 1, at - colon - 1, "***") == 0) {
      continue;
    }
    masked.replace(colon + 1, at - colon - 1, "***");
  }
  return masked;
}

CommandLine Parse(int argc, const char* const* argv, const EnvironmentLookup& lookup);

}  // namespace

CommandLine ParseCommandLine(int argc, const char* const* argv, const EnvironmentLookup& lookup) {
  CommandLine result = Parse(
      argc, argv, lookup ? lookup : [](const char* name) { return std::getenv(name); });
  if (result.action == CommandLine::Action::kUsageError) {
    result.text = Redact(result.text, CommandLineSecrets(argc, argv));
  }
  return result;
}

namespace {

// The flags as given, for the checks that follow the parse: the text of each flag this file
// parses itself, and (once parsed) which flags were given and the environment.
struct GivenFlags {
  std::string delay = "5s", timeout = "10s", connect_timeout, retry_delay = "1s", max_body;
  std::vector<std::string> limits;
  std::string rate;
  std::string report = "text";
  // The built-in blueprint's request, in curl's words.
  std::string method, data, data_file;
  std::vector<std::string> headers;
  std::vector<std::string> captures;
  std::string save;
  bool http11 = false, http2 = false;
  std::string shard;
  std::optional<std::uint32_t> shard_count;
  // --dry-run: "" (not given), "true" (CLI11's value of a flag alone) or "unmasked".
  std::string dry_run;

  const CLI::App* app = nullptr;
  int argc = 0;
  const char* const* argv = nullptr;
  EnvironmentLookup lookup;

  // Given on the command line or, for --url, by ORCHESTRATOR_URL.
  bool Given(const char* name) const { return app->get_option(name)->count() > 0; }

  // On the command line itself, as `flag VALUE` or `flag=VALUE`: not from the environment.
  bool OnCommandLine(std::string_view flag) const {
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      if (arg == "--") break;
      if (arg == flag ||
          (arg.starts_with(flag) && arg.size() > flag.size() && arg[flag.size()] == '=')) {
        return true;
      }
    }
    return false;
  }
};

// The command line's flags, their help, and where each goes: into `options` as it is, or
// into `flags` for a check below.
void DeclareFlags(CLI::App& app, Options& options, GivenFlags& flags) {
  app.footer(std::string(kFooter));
  app.set_version_flag("-V,--version", VersionText());

  app.add_option("TASKS_CSV", options.tasks_path,
                 "Tasks CSV file; - or absent reads standard input")
      ->type_name("FILE");
  app.add_option("--url", options.url,
                 "URL that fetch_data fetches (http or https; env ORCHESTRATOR_URL)")
      ->envname("ORCHESTRATOR_URL")
      ->type_name("URL")
      ->capture_default_str();
  app.add_option("--delay", flags.delay, "How long long_delay waits")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--timeout", flags.timeout,
                 "Limit on each fetch attempt as a whole: connect, request and body")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--connect-timeout", flags.connect_timeout,
                 "Limit on the connect phase of each attempt [default: --timeout]")
      ->type_name("DURATION");
  app.add_option("--retries", options.retries,
                 "Retries of a transient failure (connect error, reset, timeout, HTTP 408, "
                 "429, 500, 502, 503, 504)")
      ->type_name("N")
      ->check(WholeNumberIn(0, 100))
      ->capture_default_str();
  app.add_option("--retry-delay", flags.retry_delay,
                 "Backoff before the first retry, at most 10m; doubles per retry up to 30s (or "
                 "up to itself when longer), with jitter; a longer Retry-After from the server "
                 "wins")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option(
         "--max-connections", options.max_connections,
         "Fetches in flight at once, over all threads (a task in its delay holds none); fewer "
         "while this process has no CPU to spare for more (its event loop lags or is busy)")
      ->type_name("N")
      ->check(WholeNumberIn(1, 100'000))
      ->capture_default_str();
  app.add_option("--threads", options.threads,
                 "Event loops (threads), each running its share of the tasks and of "
                 "--max-connections; more than 1 helps when one CPU cannot keep up with "
                 "the server")
      ->type_name("N")
      ->check(WholeNumberIn(1, 256))
      ->default_str("one per CPU");
  app.add_option("--max-body", flags.max_body,
                 "Fail a fetch whose response body is larger than SIZE (512k, 10M, 1G); "
                 "bodies are counted, never kept [default: no limit]")
      ->type_name("SIZE");
  app.add_option("-o,--output", options.output_path,
                 "Also write the result CSV to FILE, row by row, replacing it once the run "
                 "starts (with --resume FILE: continue it in place)")
      ->type_name("FILE");
  app.add_option_function<std::string>(
         "--format",
         [&options](const std::string& name) { options.result_format = *ParseResultFormat(name); },
         "The results on stdout and in --output FILE: csv (a header line, then a row per task), "
         "or jsonl (a JSON object per task and line, no header: task_id, final_status, "
         "error_info, then each capture the task took, JSON values as such)")
      ->check(CLI::IsMember({"csv", "jsonl"}))
      ->type_name("FORMAT")
      ->default_str("csv");
  app.add_option("--events", options.events_path,
                 "Write what happens to every task to FILE as JSON Lines (queued, started, "
                 "each step, retries, webhooks, finished); FILE may be a FIFO or /dev/stderr")
      ->type_name("FILE");
  app.add_option("--metrics", options.metrics_path,
                 "Write the run's progress to FILE in Prometheus's text format every 5 s and at "
                 "the end, for node_exporter's textfile collector (FILE ending in .prom)")
      ->type_name("FILE");
  app.add_option("--resume", options.resume_path,
                 "Carry over the tasks an earlier result file (CSV or JSON Lines) records as "
                 "Completed and run the rest (a missing FILE runs everything)")
      ->type_name("FILE");
  app.add_option("--blueprints", options.blueprints_path,
                 "Blueprint file (TOML): the steps, typed columns and webhooks of each "
                 "task_type, in place of fetch_data, long_delay and emit_event; see docs/manual.md")
      ->type_name("FILE");
  app.add_option("--limit", flags.limits,
                 "At most N tasks of TYPE running at once (* for every type), or N per value of "
                 "COLUMN with TYPE[COLUMN]=N, in the whole run; repeatable")
      ->type_name("TYPE=N")
      ->allow_extra_args(false);
  app.add_option("--rate", flags.rate,
                 "Start fetch attempts (retries and webhooks included) at most R a second, "
                 "evenly spaced: 200/s, 6000/m, 3/h or a number per second [default: no limit]")
      ->type_name("R");
  app.add_option("--halt", options.halt_text,
                 "Stop after failures, as GNU parallel: soon,fail=N or soon,fail=P% start no "
                 "new task once N (or P% of those ended, from 10) have failed; now,fail=... "
                 "also cancels the running ones")
      ->type_name("WHEN,fail=N")
      ->default_str("never");
  // The built-in blueprint's request, in curl's words.
  app.add_option("-X,--method", flags.method,
                 "Method of fetch_data: GET, HEAD, POST, PUT, PATCH or DELETE [default: GET, "
                 "or POST with a body]")
      ->type_name("METHOD");
  app.add_option("-H,--header", flags.headers,
                 "A header of fetch_data, 'Name: value' (a template, as --url); repeat for "
                 "more, sent in order")
      ->type_name("'NAME: VALUE'")
      ->allow_extra_args(false);
  app.add_option("-d,--data", flags.data,
                 "Body of fetch_data, sent as is (a template, as --url; no Content-Type unless "
                 "-H names one); without -X, a POST")
      ->type_name("TEXT");
  app.add_option("--data-file", flags.data_file,
                 "Body of fetch_data: FILE's content, read at start (a template, as --data)")
      ->type_name("FILE");
  app.add_option("--capture", flags.captures,
                 "A column of the result taken from fetch_data's response: SPEC is status, url, "
                 "time, header:NAME, json:POINTER, regex:PATTERN, body, size or sha256, with ? "
                 "at its end when it may be missing; repeat for more")
      ->type_name("NAME=SPEC")
      ->allow_extra_args(false);
  app.add_option("--save", flags.save,
                 "Write each successful fetch_data's body to this file (a template: "
                 "bodies/{task_id}.json), made whole or not at all, folders created")
      ->type_name("PATH");
  app.add_flag("--save-anywhere", options.save_anywhere,
               "Let saved bodies go outside the current folder (an absolute path, or ..)");
  // Engine-wide: with --blueprints too.
  app.add_option("--cacert", options.ca_file,
                 "PEM bundle of the CAs to trust in place of the system's, for every fetch")
      ->type_name("FILE");
  app.add_flag("-k,--insecure", options.insecure,
               "Check neither TLS certificates nor host names (a warning says so)");
  app.add_flag("--http1.1", flags.http11, "Speak HTTP/1.1 only");
  app.add_flag("--http2", flags.http2,
               "Ask for HTTP/2 over plain HTTP too (an Upgrade) [default: HTTP/2 over TLS when "
               "the server offers it, else HTTP/1.1]");
  app.add_option("--report", flags.report,
                 "The closing report on stderr (per task_type counts, retries and fetch "
                 "latency; the top failure reasons): text, or json (one object on one line)")
      ->type_name("FORMAT")
      ->default_str("text");
  app.add_option("--report-file", options.report_path,
                 "Also write the closing report to FILE, as JSON (even with -q)")
      ->type_name("FILE");
  app.add_option("--shard", flags.shard,
                 "Run only shard K of N: the tasks whose task_id hashes to K (a group "
                 "connected by dependencies goes whole, by its smallest task_id) [default: "
                 "from a Slurm job array or a Kubernetes Indexed Job, else the whole run]")
      ->type_name("K/N");
  app.add_option("--shard-count", flags.shard_count,
                 "The number of shards when the index comes from JOB_COMPLETION_INDEX (a "
                 "Kubernetes Indexed Job) [env ORCHESTRATOR_SHARDS]")
      ->type_name("N")
      ->check(WholeNumberIn(1, kMaxShards));
  app.add_flag("--progress", options.progress,
               "When stderr is not a terminal, a progress line every 10 s (for CI logs)");
  app.add_flag("--no-progress", options.no_progress,
               "No status line on stderr, even when it is a terminal");
  app.add_flag("-q,--quiet", options.quiet,
               "No event lines, status line, progress lines or summary on stderr");
  app.add_flag("-n,--dry-run", flags.dry_run,
               "Read and check everything a run would, send nothing and create no file: print "
               "each task's requests, in an order its dependencies allow, as curl command "
               "lines for bash that send exactly them, each after a comment naming the task "
               "and step. A value only the run has ({NAME} of an earlier step's capture, "
               "{dep.NAME}) shows as __NAME__ or __dep.NAME__, after a comment saying so. "
               "Header values and URL passwords show as *** unless --dry-run=unmasked. Exit 0 "
               "when the run would start")
      ->type_name("[=unmasked]");
}

// Each check turns some of the flags' text into `options`, or says what is wrong.
using Check = CheckResult (*)(const GivenFlags& flags, Options& options);

// --shard, else the environment of a Slurm job array or a Kubernetes Indexed Job.
CheckResult ApplyShard(const GivenFlags& flags, Options& options) {
  if (flags.shard.empty()) {
    auto found = ShardFromEnvironment(flags.lookup, flags.shard_count);
    if (auto* problem = std::get_if<std::string>(&found)) return std::move(*problem);
    options.shard = std::get<std::optional<Shard>>(found);
    return kPassed;
  }
  auto parsed = ParseShard(flags.shard);
  if (auto* problem = std::get_if<std::string>(&parsed)) return "--shard " + *problem;
  options.shard = std::get<Shard>(parsed);
  if (flags.shard_count && *flags.shard_count != options.shard->count) {
    return fmt::format("--shard {} and --shard-count {} disagree", flags.shard, *flags.shard_count);
  }
  return kPassed;
}

// "{shard}" in the paths that take it: the shard's index; a usage error in a run not split.
CheckResult ExpandShardPaths(const GivenFlags&, Options& options) {
  const std::pair<const char*, std::string*> paths[] = {
      {"--output", &options.output_path},      {"--resume", &options.resume_path},
      {"--metrics", &options.metrics_path},    {"--events", &options.events_path},
      {"--report-file", &options.report_path},
  };
  for (const auto& [name, path] : paths) {
    if (!NamesShard(*path)) continue;
    if (!options.shard) {
      return fmt::format(
          "{} {}: {{shard}} names a shard, but this run is not split: pass --shard K/N", name,
          QuoteForMessage(*path, 200));
    }
    *path = ExpandShardPath(*path, *options.shard);
  }
  return kPassed;
}

// --delay, --timeout, --connect-timeout (--timeout's when not given) and --retry-delay.
CheckResult ApplyDurations(const GivenFlags& flags, Options& options) {
  const DurationOption durations[] = {
      {"--delay", &options.delay, flags.delay, true},
      {"--timeout", &options.timeout, flags.timeout, false},
      {"--connect-timeout", &options.connect_timeout,
       flags.connect_timeout.empty() ? flags.timeout : flags.connect_timeout, false},
      {"--retry-delay", &options.retry_delay, flags.retry_delay, true},
  };
  for (const DurationOption& option : durations) {
    CheckResult applied = ApplyDuration(option);
    if (std::holds_alternative<std::string>(applied)) return applied;
  }
  // The same bound as a server's Retry-After: a longer wait is not a backoff.
  if (const Duration longest = RetryPolicy{}.max_retry_after; options.retry_delay > longest) {
    return fmt::format("--retry-delay: {} is longer than {}, the longest wait before a retry",
                       flags.retry_delay, FormatDuration(longest));
  }
  return kPassed;
}

// --limit, each.
CheckResult ApplyLimits(const GivenFlags& flags, Options& options) {
  for (const std::string& text : flags.limits) {
    auto parsed = ParseRunningLimit(text);
    if (auto* problem = std::get_if<std::string>(&parsed)) return std::move(*problem);
    options.limits.push_back(std::get<RunningLimit>(std::move(parsed)));
  }
  return kPassed;
}

// --rate.
CheckResult ApplyRate(const GivenFlags& flags, Options& options) {
  if (flags.rate.empty()) return kPassed;
  auto parsed = ParseRate(flags.rate);
  if (auto* problem = std::get_if<std::string>(&parsed)) return std::move(*problem);
  options.rate = std::get<double>(parsed);
  return kPassed;
}

// --report: text or json.
CheckResult ApplyReport(const GivenFlags& flags, Options& options) {
  if (flags.report == "json") {
    options.report_json = true;
  } else if (flags.report != "text") {
    return fmt::format("--report \"{}\": expected text or json", flags.report);
  }
  return kPassed;
}

// --dry-run, --dry-run=unmasked.
CheckResult ApplyDryRun(const GivenFlags& flags, Options& options) {
  if (flags.dry_run.empty()) return kPassed;
  if (flags.dry_run == "true") {
    options.dry_run = Options::DryRun::kMasked;
  } else if (flags.dry_run == "unmasked") {
    options.dry_run = Options::DryRun::kUnmasked;
  } else {
    return fmt::format("--dry-run=\"{}\": expected --dry-run or --dry-run=unmasked",
                       TerminalSafe(flags.dry_run, UnsafeShownAs::kQuestionMark));
  }
  return kPassed;
}

// --halt.
CheckResult ApplyHalt(const GivenFlags&, Options& options) {
  auto halt = ParseHaltPolicy(options.halt_text);
  if (auto* problem = std::get_if<std::string>(&halt)) return std::move(*problem);
  options.halt = std::get<HaltPolicy>(halt);
  return kPassed;
}

// --max-body: a size above 0.
CheckResult ApplyMaxBody(const GivenFlags& flags, Options& options) {
  if (flags.max_body.empty()) return kPassed;
  options.max_body = ParseByteSize(flags.max_body);
  if (!options.max_body || *options.max_body == 0) {
    return fmt::format("--max-body: invalid size \"{}\" (examples: 512k, 10M, 1G)", flags.max_body);
  }
  return kPassed;
}

// --url: a template of an http or https URL; without a scheme, http:// as curl guesses.
CheckResult CheckUrl(const GivenFlags&, Options& options) {
  options.url = WithGuessedScheme(options.url);
  if (const auto parsed = ParseUrlTemplate(options.url, options.request.captures);
      std::holds_alternative<Template::Error>(parsed)) {
    return "--url: " + std::get<Template::Error>(parsed).message;
  }
  const CheckResult checked = CheckFetchUrl(options.url);
  if (const auto* problem = std::get_if<std::string>(&checked)) return "--url: " + *problem;
  return kPassed;
}

// -X: a method we know.
CheckResult ApplyMethod(const GivenFlags& flags, Options& options) {
  if (!flags.Given("--method")) return kPassed;
  options.request.method = MethodNamed(flags.method);
  if (!options.request.method) {
    return fmt::format("-X: unknown method {} (known: {})", QuoteForMessage(flags.method),
                       kKnownMethods);
  }
  return kPassed;
}

// -H, each, in order.
CheckResult ApplyHeaders(const GivenFlags& flags, Options& options) {
  for (std::size_t i = 0; i < flags.headers.size(); ++i) {
    auto header = ParseHeaderFlag(flags.headers[i], i + 1, options.request.captures);
    if (auto* problem = std::get_if<std::string>(&header)) return std::move(*problem);
    options.request.headers.push_back(std::get<Header>(std::move(header)));
  }
  return kPassed;
}

// --capture, each, in order: the result's columns after error_info.
CheckResult ApplyCaptures(const GivenFlags& flags, Options& options) {
  std::vector<Capture>& captures = options.request.captures;
  for (const std::string& given : flags.captures) {
    const std::size_t equals = given.find('=');
    if (equals == std::string::npos) {
      return fmt::format("--capture {}: write NAME=SPEC, like price=json:/price",
                         QuoteForMessage(given));
    }
    const std::string name = given.substr(0, equals);
    if (std::optional<std::string> problem = CaptureNameProblem(name)) {
      return fmt::format("--capture {}: {}", QuoteForMessage(name), *problem);
    }
    for (const Capture& earlier : captures) {
      if (earlier.name == name) return fmt::format("--capture {} is given twice", name);
    }
    auto spec = CaptureSpec::Parse(std::string_view(given).substr(equals + 1));
    if (auto* error = std::get_if<CaptureSpec::Error>(&spec)) {
      return fmt::format("--capture {}: {}", name, error->message);
    }
    captures.push_back({name, std::get<CaptureSpec>(std::move(spec)), captures.size()});
  }
  return kPassed;
}

// --save: a file path template, under the current folder unless --save-anywhere.
CheckResult ApplySave(const GivenFlags& flags, Options& options) {
  if (!flags.Given("--save")) return kPassed;
  if (auto problem = SavePathProblem(flags.save, options.save_anywhere)) {
    return fmt::format("--save {}: {}", QuoteForMessage(flags.save, 80), *problem);
  }
  auto save = ParseBuiltinTemplate(flags.save, TemplateContext::kPath, options.request.captures);
  if (auto* error = std::get_if<Template::Error>(&save)) return "--save: " + error->message;
  options.request.save = std::get<Template>(std::move(save));
  return kPassed;
}

// -d or --data-file: one body at most, and none with -X HEAD.
CheckResult ApplyBody(const GivenFlags& flags, Options& options) {
  RequestFlags& request = options.request;
  const bool data_given = flags.Given("--data");
  request.body_file = flags.data_file;
  if (data_given && !flags.data_file.empty()) {
    return "-d and --data-file cannot be used together: the fetch has one body";
  }
  if (flags.Given("--data-file") && flags.data_file.empty()) {
    return "--data-file: the file name is empty";
  }
  if (data_given) {
    auto body = ParseBuiltinTemplate(flags.data, TemplateContext::kBody, options.request.captures);
    if (auto* error = std::get_if<Template::Error>(&body)) return "-d: " + error->message;
    request.body = std::get<Template>(std::move(body));
  }
  if (request.method == HttpMethod::kHead && (data_given || !flags.data_file.empty())) {
    return "-X HEAD cannot send a body (-d or --data-file)";
  }
  return kPassed;
}

// --http1.1 or --http2, not both.
CheckResult ApplyHttpVersion(const GivenFlags& flags, Options& options) {
  if (flags.http11 && flags.http2) return "--http1.1 and --http2 cannot be used together";
  options.http_version = flags.http11  ? HttpVersion::kHttp11
                         : flags.http2 ? HttpVersion::kHttp2
                                       : HttpVersion::kDefault;
  return kPassed;
}

// --cacert: a readable file. Checked here, not by each fetch's TLS error: a typo would fail
// every task alike.
CheckResult CheckCaFile(const GivenFlags& flags, Options& options) {
  if (!flags.Given("--cacert")) return kPassed;
  struct stat info {};
  const int error = ::stat(options.ca_file.c_str(), &info) != 0    ? errno
                    : S_ISDIR(info.st_mode)                        ? EISDIR
                    : ::access(options.ca_file.c_str(), R_OK) != 0 ? errno
                                                                   : 0;
  if (error == 0) return kPassed;
  return fmt::format("--cacert: cannot read {}: {}", QuoteForMessage(options.ca_file, 200),
                     std::strerror(error));
}

// --blueprints: a blueprint file says what each type fetches and how long it waits, so the
// built-in blueprint's flags would have nothing to mean. --url and --delay count on the
// command line itself: ORCHESTRATOR_URL in the environment is no mistake.
CheckResult CheckBlueprintFlags(const GivenFlags& flags, Options& options) {
  if (options.blueprints_path.empty()) return kPassed;
  const std::pair<const char*, bool> built_in_flags[] = {
      {"--url", flags.OnCommandLine("--url")},  {"--delay", flags.OnCommandLine("--delay")},
      {"-X/--method", flags.Given("--method")}, {"-H/--header", flags.Given("--header")},
      {"-d/--data", flags.Given("--data")},     {"--data-file", flags.Given("--data-file")},
      {"--capture", flags.Given("--capture")},  {"--save", flags.Given("--save")},
  };
  for (const auto& [flag, used] : built_in_flags) {
    if (used) {
      return fmt::format(
          "{} cannot be used with --blueprints: the file says what each task_type does (a "
          "[types.\"*\"] entry for every other type)",
          flag);
    }
  }
  return kPassed;
}

// With --blueprints, the fetch settings given on the command line: they rank above the
// file's [defaults].
FetchSettings FetchFlags(const GivenFlags& flags, const Options& options) {
  FetchSettings settings;
  if (flags.Given("--timeout")) settings.timeout = options.timeout;
  if (!flags.connect_timeout.empty()) settings.connect_timeout = options.connect_timeout;
  if (flags.Given("--retries")) settings.retries = options.retries;
  if (flags.Given("--retry-delay")) settings.retry_delay = options.retry_delay;
  settings.max_body = options.max_body;
  return settings;
}

CommandLine Parse(int argc, const char* const* argv, const EnvironmentLookup& lookup) {
  CommandLine result;
  Options& options = result.options;
  CLI::App app{std::string(kDescription), "orchestrator"};
  GivenFlags flags;
  DeclareFlags(app, options, flags);
  // Wherever they stand, and before any mistake in the rest.
  switch (HelpOrVersionAsked(argc, argv)) {
    case FirstAsked::kHelp:
      return {CommandLine::Action::kPrint, options, app.help()};
    case FirstAsked::kVersion:
      return {CommandLine::Action::kPrint, options, app.version() + "\n"};
    case FirstAsked::kNothing:
      break;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return {CommandLine::Action::kPrint, options, app.help()};
  } catch (const CLI::CallForVersion& version) {
    return {CommandLine::Action::kPrint, options, std::string(version.what()) + "\n"};
  } catch (const CLI::ParseError& error) {
    return {CommandLine::Action::kUsageError, options, ParseErrorWords(app, error, argc, argv)};
  }
  flags.app = &app;
  flags.argc = argc;
  flags.argv = argv;
  flags.lookup = lookup;

  // In this order: of several mistakes, the first is the one reported.
  constexpr Check kChecks[] = {
      ApplyShard,           // --shard, --shard-count, or the environment
      ExpandShardPaths,     // {shard} in --output, --resume, --metrics, --events, --report-file
      ApplyDurations,       // --delay, --timeout, --connect-timeout, --retry-delay
      ApplyLimits,          // --limit
      ApplyRate,            // --rate
      ApplyReport,          // --report
      ApplyDryRun,          // --dry-run
      ApplyHalt,            // --halt
      ApplyMaxBody,         // --max-body
      ApplyCaptures,        // --capture: before the templates that may name {dep.NAME}
      CheckUrl,             // --url
      ApplyMethod,          // -X
      ApplyHeaders,         // -H
      ApplySave,            // --save, --save-anywhere
      ApplyBody,            // -d, --data-file
      ApplyHttpVersion,     // --http1.1, --http2
      CheckCaFile,          // --cacert
      CheckBlueprintFlags,  // --blueprints against the built-in blueprint's flags
  };
  for (const Check check : kChecks) {
    CheckResult checked = check(flags, options);
    if (auto* problem = std::get_if<std::string>(&checked)) {
      return {CommandLine::Action::kUsageError, options, std::move(*problem)};
    }
  }
  if (!options.blueprints_path.empty()) options.fetch_flags = FetchFlags(flags, options);
  return result;
}

}  // namespace

}  // namespace orchestrator

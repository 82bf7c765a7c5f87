#include "orchestrator/options.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <optional>

#include "orchestrator/blueprint.h"
#include "orchestrator/byte_size.h"
#include "orchestrator/retry_policy.h"
#include "orchestrator/url.h"
#include "orchestrator/version.h"

namespace orchestrator {
namespace {

constexpr std::string_view kDescription =
    "Runs every unique task of a CSV (columns task_id, task_type) through a blueprint: "
    "fetch_data (HTTP GET of --url), long_delay (--delay), emit_event (a line on stderr). "
    "Tasks run concurrently; a result CSV (task_id,final_status,error_info) streams to "
    "stdout as they finish.";

constexpr std::string_view kFooter =
    "DURATION is 250ms, 1.5s, 5s, 1m, 2h, or a plain number of seconds.\n"
    "Exit status: 0 all tasks Completed, 1 some Failed, 2 usage or input error (nothing run),\n"
    "3 results could not be written, 128+N stopped by signal N (130 SIGINT, 143 SIGTERM),\n"
    "141 stdout was closed by its reader.";

// A duration option: text from CLI11, parsed by us for exact units and clear messages.
struct DurationOption {
  const char* flag;
  Duration* target;
  std::string text;
  bool zero_allowed;
};

std::optional<std::string> ApplyDuration(const DurationOption& option) {
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
  return std::nullopt;
}

}  // namespace

CommandLine ParseCommandLine(int argc, const char* const* argv) {
  CommandLine result;
  Options& options = result.options;
  CLI::App app{std::string(kDescription), "orchestrator"};
  app.footer(std::string(kFooter));
  app.set_version_flag("--version", fmt::format("orchestrator {}", kVersion));

  std::string delay = "5s", timeout = "10s", connect_timeout, retry_delay = "1s", max_body;
  app.add_option("TASKS_CSV", options.tasks_path,
                 "Tasks CSV file; - or absent reads standard input")
      ->type_name("FILE");
  app.add_option("--url", options.url,
                 "URL that fetch_data GETs (http or https; env ORCHESTRATOR_URL)")
      ->envname("ORCHESTRATOR_URL")
      ->type_name("URL")
      ->capture_default_str();
  app.add_option("--delay", delay, "How long long_delay waits")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--timeout", timeout,
                 "Limit on each fetch attempt as a whole: connect, request and body")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--connect-timeout", connect_timeout,
                 "Limit on the connect phase of each attempt [default: --timeout]")
      ->type_name("DURATION");
  app.add_option("--retries", options.retries,
                 "Retries of a transient failure (connect error, reset, timeout, HTTP 408, "
                 "429, 500, 502, 503, 504)")
      ->type_name("N")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  app.add_option("--retry-delay", retry_delay,
                 "Backoff before the first retry, at most 10m; doubles per retry up to 30s (or "
                 "up to itself when longer), with jitter; a longer Retry-After from the server "
                 "wins")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--max-connections", options.max_connections,
                 "Fetches in flight at once, over all threads (a task in its delay holds none)")
      ->type_name("N")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}))
      ->capture_default_str();
  app.add_option("--threads", options.threads,
                 "Event loops (threads), each running its share of the tasks and of "
                 "--max-connections; more than 1 helps when one CPU cannot keep up with "
                 "the server")
      ->type_name("N")
      ->check(CLI::Range(std::size_t{1}, std::size_t{256}))
      ->default_str("one per CPU");
  app.add_option("--max-body", max_body,
                 "Fail a fetch whose response body is larger than SIZE (512k, 10M, 1G); "
                 "bodies are counted, never kept [default: no limit]")
      ->type_name("SIZE");
  app.add_option("-o,--output", options.output_path,
                 "Also write the result CSV to FILE, row by row, replacing it once the run "
                 "starts (with --resume FILE: continue it in place)")
      ->type_name("FILE");
  app.add_option("--resume", options.resume_path,
                 "Carry over the tasks an earlier result CSV records as Completed and run the "
                 "rest (a missing FILE runs everything)")
      ->type_name("FILE");
  app.add_option("--blueprints", options.blueprints_path,
                 "Blueprint file (TOML): the steps, typed columns and webhooks of each "
                 "task_type, in place of fetch_data, long_delay and emit_event; see the README")
      ->type_name("FILE");
  app.add_flag("-q,--quiet", options.quiet, "No event lines or summary on stderr");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return {CommandLine::Action::kPrint, options, app.help()};
  } catch (const CLI::CallForVersion& version) {
    return {CommandLine::Action::kPrint, options, std::string(version.what()) + "\n"};
  } catch (const CLI::ParseError& error) {
    return {CommandLine::Action::kUsageError, options, error.what()};
  }

  const bool connect_timeout_given = !connect_timeout.empty();
  if (connect_timeout.empty()) connect_timeout = timeout;
  const DurationOption durations[] = {
      {"--delay", &options.delay, delay, true},
      {"--timeout", &options.timeout, timeout, false},
      {"--connect-timeout", &options.connect_timeout, connect_timeout, false},
      {"--retry-delay", &options.retry_delay, retry_delay, true},
  };
  for (const DurationOption& option : durations) {
    if (auto problem = ApplyDuration(option)) {
      return {CommandLine::Action::kUsageError, options, *problem};
    }
  }
  // The same bound as a server's Retry-After: a longer wait is not a backoff.
  if (const Duration longest = RetryPolicy{}.max_retry_after; options.retry_delay > longest) {
    return {CommandLine::Action::kUsageError, options,
            fmt::format("--retry-delay: {} is longer than {}, the longest wait before a retry",
                        retry_delay, FormatDuration(longest))};
  }
  if (!max_body.empty()) {
    options.max_body = ParseByteSize(max_body);
    if (!options.max_body || *options.max_body == 0) {
      return {CommandLine::Action::kUsageError, options,
              fmt::format("--max-body: invalid size \"{}\" (examples: 512k, 10M, 1G)", max_body)};
    }
  }
  if (const auto parsed = ParseUrlTemplate(options.url);
      std::holds_alternative<Template::Error>(parsed)) {
    return {CommandLine::Action::kUsageError, options,
            "--url: " + std::get<Template::Error>(parsed).message};
  }
  if (auto problem = CheckFetchUrl(options.url)) {
    return {CommandLine::Action::kUsageError, options, "--url: " + *problem};
  }
  if (!options.blueprints_path.empty()) {
    // A blueprint file says what each type fetches and how long it waits: the built-in
    // blueprint's two flags would have nothing to mean.
    // On the command line itself: ORCHESTRATOR_URL in the environment is no mistake.
    const auto on_command_line = [&](std::string_view flag) {
      for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--") break;
        if (arg == flag ||
            (arg.starts_with(flag) && arg.size() > flag.size() && arg[flag.size()] == '=')) {
          return true;
        }
      }
      return false;
    };
    for (const char* flag : {"--url", "--delay"}) {
      if (on_command_line(flag)) {
        return {CommandLine::Action::kUsageError, options,
                fmt::format("{} cannot be used with --blueprints: the file says what each "
                            "task_type does (a [types.\"*\"] entry for every other type)",
                            flag)};
      }
    }
    // The fetch settings given here rank above the file's [defaults].
    FetchSettings& given = options.fetch_flags;
    if (app.get_option("--timeout")->count() > 0) given.timeout = options.timeout;
    if (connect_timeout_given) given.connect_timeout = options.connect_timeout;
    if (app.get_option("--retries")->count() > 0) given.retries = options.retries;
    if (app.get_option("--retry-delay")->count() > 0) given.retry_delay = options.retry_delay;
    given.max_body = options.max_body;
  }
  return result;
}

}  // namespace orchestrator

// orchestrator: reads tasks, runs each through the blueprint, streams a result CSV.
// This file only turns options into parts and wires them; each part is its own file.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "orchestrator/blueprint.h"
#include "orchestrator/blueprint_file.h"
#include "orchestrator/collector.h"
#include "orchestrator/colour.h"
#include "orchestrator/curl_http_client.h"
#include "orchestrator/dry_run.h"
#include "orchestrator/earlier_results.h"
#include "orchestrator/event_log.h"
#include "orchestrator/exit_status.h"
#include "orchestrator/fallible.h"
#include "orchestrator/fd_budget.h"
#include "orchestrator/input_error.h"
#include "orchestrator/input_file.h"
#include "orchestrator/interrupts.h"
#include "orchestrator/merge_options.h"
#include "orchestrator/metrics_file.h"
#include "orchestrator/open_output.h"
#include "orchestrator/options.h"
#include "orchestrator/output_stream.h"
#include "orchestrator/reporter.h"
#include "orchestrator/result_file.h"
#include "orchestrator/result_merge.h"
#include "orchestrator/run_files.h"
#include "orchestrator/run_plan.h"
#include "orchestrator/run_report.h"
#include "orchestrator/status_line.h"
#include "orchestrator/task_reader.h"
#include "orchestrator/version.h"

namespace orchestrator {
namespace {

// --metrics: how often the file is rewritten (its mtime is a heartbeat), and how often the
// workers send their counts for it.
constexpr std::chrono::milliseconds kMetricsEvery{5000};
constexpr std::chrono::milliseconds kStatsEvery{250};
// The status line: redrawn 10 times a second on a terminal (the workers' counts as often),
// a plain line every 10 s with --progress.
constexpr std::chrono::milliseconds kStatusLineEvery{100};
constexpr std::chrono::milliseconds kProgressLineEvery{10'000};

// A message on stderr, best effort: a stderr that cannot be written (`2>/dev/full`, a pipe
// whose reader left while SIGPIPE is ignored) changes neither the rows nor the exit status.
// fmt::print would throw there, and again from the handler reporting that, ending in
// std::terminate; OutputStream writes with write(2), waits out a non-blocking descriptor and
// only records an error. A message that cannot even be formatted (no memory left) is dropped.
template <typename... Args>
void PrintToStderr(fmt::format_string<Args...> format, Args&&... args) noexcept {
  try {
    fmt::memory_buffer text;
    fmt::format_to(std::back_inserter(text), format, std::forward<Args>(args)...);
    OutputStream(STDERR_FILENO, "stderr", OutputStream::FlushPolicy::kEveryWrite)
        .Write({text.data(), text.size()});
  } catch (...) {
  }
}

// --help, --version: like `yes | head -1`, a reader that left after the lines it wanted is
// exit 141; another failure (`>/dev/full`) exit 3.
int PrintToStdout(const std::string& text) {
  if (std::fputs(text.c_str(), stdout) >= 0 && std::fflush(stdout) == 0) return kExitCompleted;
  return errno == EPIPE ? kExitReaderGone : kExitOutputError;
}

// Fetches in flight: what the user asked for, within what the open-file limit allows. A limit
// that allows not one is the machine's doing, not a usage error: the caller exits
// kExitEnvironment.
Fallible<std::size_t> ChooseMaxFetches(const Options& options, std::size_t threads,
                                       bool saving_bodies) {
  const std::uint64_t open_files = RaiseOpenFileLimit();
  const std::size_t affordable = MaxFetchesFor(open_files, threads, saving_bodies);
  if (affordable == 0) {
    return fmt::format("ulimit -n: an open-file limit of {} is too low to run; raise it",
                       open_files);
  }
  if (options.max_connections <= affordable) return options.max_connections;
  PrintToStderr(
      "orchestrator: warning: --max-connections {} needs more open files than the limit "
      "of {} allows; using {}\n",
      options.max_connections, open_files, affordable);
  return affordable;
}

// --resume: what the earlier result file recorded. A file that does not exist yet is an
// empty record, so one command line serves the first run and every rerun.
EarlierResults ReadResumeFile(const Options& options, int interrupt_fd,
                              std::span<const std::string> capture_columns,
                              std::span<const CsvCellReading> readings) {
  if (options.resume_path.empty()) return {};
  struct stat info {};
  if (::stat(options.resume_path.c_str(), &info) != 0 && errno == ENOENT) {
    if (!options.quiet) {
      PrintToStderr("orchestrator: {}: no earlier results yet; running every task\n",
                    options.resume_path);
    }
    return {};
  }
  const InputFile file = InputFile::Open(options.resume_path, interrupt_fd);
  EarlierResults earlier = ReadEarlierResults(file, capture_columns, readings);
  if (!earlier.dropped_columns.empty()) {
    PrintToStderr(
        "orchestrator: warning: {}: column{} {} {} not captured by this run: the values are "
        "not carried over\n",
        file.name(), earlier.dropped_columns.size() == 1 ? "" : "s",
        fmt::join(earlier.dropped_columns, ", "),
        earlier.dropped_columns.size() == 1 ? "is" : "are");
  }
  if (earlier.torn_line) {
    PrintToStderr(
        "orchestrator: warning: {}:{}: ignoring a torn last row (a run was cut short "
        "while writing it)\n",
        file.name(), *earlier.torn_line);
  }
  return earlier;
}

// The closing line on stderr and the exit status, from how the run ended and its counts.
int Conclude(const Options& options, const RunEnd& end, const Reporter& reporter,
             std::size_t unique_tasks, std::size_t duplicates, std::size_t carried,
             std::chrono::steady_clock::time_point started) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::string counts =
      fmt::format("{} Completed, {} Failed", reporter.completed(), reporter.failed());
  const OutputStream* failed_output = reporter.failed_stream();
  if (!end.internal_error.empty()) {
    PrintToStderr("orchestrator: internal error: {}; the run was stopped: {} ({} cancelled)\n",
                  end.internal_error, counts, reporter.cancelled());
    return kExitInternal;
  }
  if (end.signal != 0) {
    PrintToStderr("orchestrator: stopped by {}: {} ({} cancelled)\n", SignalName(end.signal),
                  counts, reporter.cancelled());
    return kExitSignalBase + end.signal;
  }
  if (end.reader_gone || (failed_output != nullptr && failed_output->error() == EPIPE)) {
    return kExitReaderGone;  // like `yes | head -1`: the reader had what it wanted
  }
  if (failed_output != nullptr) {
    PrintToStderr("orchestrator: error: cannot write results to {}: {}; they are incomplete\n",
                  failed_output->name(), std::strerror(failed_output->error()));
    return kExitOutputError;
  }
  if (const std::optional<OutputFailure>& failure = end.output_failure) {
    PrintToStderr("orchestrator: error: cannot write {} to {}: {}; they are incomplete\n",
                  failure->what, failure->where, std::strerror(failure->error));
    return kExitOutputError;
  }
  if (end.halted_after) {
    // Printed even with -q: the rows of the tasks it left say it too, but not why.
    PrintToStderr("orchestrator: halted after {} failure{} (--halt {}): {} task{} not started\n",
                  *end.halted_after, *end.halted_after == 1 ? "" : "s", options.halt_text,
                  end.not_started, end.not_started == 1 ? "" : "s");
  }
  if (!options.quiet) {
    std::vector<std::string> notes;
    if (duplicates > 0) {
      notes.push_back(
          fmt::format("{} duplicate row{} skipped", duplicates, duplicates == 1 ? "" : "s"));
    }
    if (carried > 0) {
      notes.push_back(fmt::format("{} carried over from {}", carried, options.resume_path));
    }
    const std::size_t given_up = reporter.webhooks_given_up();
    // The verdict in colour on a terminal: the failed count red, or all completed green.
    const bool colour = ColourFor(STDERR_FILENO);
    const std::string verdict =
        reporter.failed() > 0
            ? fmt::format(
                  "{} Completed, {}", reporter.completed(),
                  Painted(fmt::format("{} Failed", reporter.failed()), Colour::kRed, colour))
            : fmt::format("{}, 0 Failed", Painted(fmt::format("{} Completed", reporter.completed()),
                                                  Colour::kGreen, colour));
    PrintToStderr(
        "orchestrator: {}{} unique task{}{}: {} in {:.1f}s{}\n",
        options.shard ? fmt::format("shard {}: ", ShardName(*options.shard)) : "", unique_tasks,
        unique_tasks == 1 ? "" : "s",
        notes.empty() ? "" : fmt::format(" ({})", fmt::join(notes, ", ")), verdict, seconds,
        given_up == 0 ? ""
                      : fmt::format("; {} webhook{} given up", given_up, given_up == 1 ? "" : "s"));
  }
  return reporter.failed() > 0 ? kExitSomeFailed : kExitCompleted;
}

// --dry-run: the requests of the tasks a run would start, as curl command lines on stdout.
int DryRun(const Options& options, const TaskList& tasks,
           const std::vector<const Blueprint*>& blueprints,
           const std::vector<std::string>& capture_columns, const std::vector<TaskId>& carried,
           const CarriedParentValues& carried_values, std::size_t duplicates,
           const RunFileGuard& run_file_guard) {
  OutputStream out(STDOUT_FILENO, "stdout", OutputStream::FlushPolicy::kWhenAsked);
  const DryRunPlan plan{.tasks = &tasks,
                        .blueprints = blueprints,
                        .capture_columns = capture_columns,
                        .carried = carried,
                        .resume_path = options.resume_path,
                        .carried_values = &carried_values,
                        .duplicates = duplicates,
                        .curl = {.user_agent = fmt::format("orchestrator/{}", kVersion),
                                 .ca_file = options.ca_file,
                                 .insecure = options.insecure,
                                 .http_version = options.http_version},
                        .unmasked = options.dry_run == Options::DryRun::kUnmasked,
                        .save_refused = [&run_file_guard](const std::string& path) {
                          return run_file_guard.Refusal(path);
                        }};
  const DryRunCounts counts = WriteDryRun(plan, [&out](std::string_view text) {
    out.Write(text);
    return out.Flush();
  });
  out.WaitUntilWritten(-1);
  if (out.error() == EPIPE) return kExitReaderGone;
  if (out.failed()) {
    PrintToStderr("orchestrator: error: cannot write the dry run to stdout: {}\n",
                  std::strerror(out.error()));
    return kExitOutputError;
  }
  if (!options.quiet) {
    PrintToStderr(
        "orchestrator: dry run: {} task{} would run, {} request{} shown{}{}; nothing was sent\n",
        counts.tasks, counts.tasks == 1 ? "" : "s", counts.requests,
        counts.requests == 1 ? "" : "s",
        counts.with_run_values == 0
            ? ""
            : fmt::format(" ({} with values only the run has)", counts.with_run_values),
        counts.failing == 0 ? ""
                            : fmt::format(", {} task{} would fail before sending a request",
                                          counts.failing, counts.failing == 1 ? "" : "s"));
  }
  return kExitCompleted;
}

// Declaration order is destruction order in reverse, and it matters: the workers (inside the
// collector) go first, joining their threads and freeing their curl handles; then curl's
// global state; the outputs and the collector's io_context last of all.
int Run(const Options& options, const SignalWatch& signals) {
  const auto started = std::chrono::steady_clock::now();

  if (options.insecure) {
    PrintToStderr(
        "orchestrator: warning: --insecure: TLS certificates and host names are not "
        "checked; anyone on the path can read and change the requests\n");
  }
  // The blueprint file first: it says which columns each task_type's rows must carry. Or the
  // built-in blueprint, its --data-file read now.
  std::optional<BlueprintFile> blueprint_file;
  std::optional<TaskKindTable> kinds;
  std::optional<BuiltinKinds> builtin;
  std::vector<RunningLimit> limits = options.limits;
  std::vector<std::string> capture_columns;  // the result's columns after error_info
  std::vector<CsvCellReading> csv_readings;  // how --resume reads a result CSV's capture cells
  if (!options.blueprints_path.empty()) {
    blueprint_file =
        ReadBlueprintFile(options.blueprints_path, options.fetch_flags, options.save_anywhere);
    const CheckResult limits_hold = CheckLimitColumns(options.limits, *blueprint_file);
    if (const auto* problem = std::get_if<std::string>(&limits_hold)) {
      PrintToStderr("orchestrator: {}\n", *problem);
      return kExitUsage;
    }
    kinds = KindsOf(*blueprint_file);
    limits = MergeLimits(std::move(limits), blueprint_file->limits);
    capture_columns = blueprint_file->capture_columns;
    std::vector<const Capture*> captures;
    for (const Blueprint& kind : blueprint_file->kinds) {
      for (const Step& step : kind.steps) {
        if (const auto* fetch = std::get_if<FetchStep>(&step.action)) {
          for (const Capture& capture : fetch->captures) captures.push_back(&capture);
        }
      }
    }
    csv_readings = CsvCellReadings(captures, capture_columns.size());
  } else {
    FetchStep fetch = FetchOf(options.url, options.request);  // checked with the options
    fetch.timeout = options.timeout;
    fetch.connect_timeout = options.connect_timeout;
    fetch.retry = {.max_retries = options.retries, .base_delay = options.retry_delay};
    fetch.max_body = options.max_body;
    SetCaptures(fetch, options.request.captures);
    std::vector<const Capture*> captures;
    for (const Capture& capture : fetch.captures) {
      capture_columns.push_back(capture.name);
      captures.push_back(&capture);
    }
    csv_readings = CsvCellReadings(captures, capture_columns.size());
    // A --limit per column needs the column's values in the rows of the types it names: the
    // reader keeps them.
    builtin.emplace(DefaultBlueprint(std::move(fetch), options.delay), options.limits);
  }
  // Before anything is opened for writing: no file of the run's may overwrite another, the
  // blueprint file's saves included.
  const std::vector<RunFile> run_files =
      RunFilesOf(options, blueprint_file ? &*blueprint_file : nullptr);
  const CheckResult files_distinct = CheckDistinctFiles(run_files);
  if (const auto* problem = std::get_if<std::string>(&files_distinct)) {
    PrintToStderr("orchestrator: {}; nothing was run\n", *problem);
    return kExitUsage;
  }
  // Whether tasks get their dependencies' captured values ({dep.NAME}, {deps.NAME:json}):
  // then the reader keeps the order each row lists its parents in.
  const bool uses_dependency_values = blueprint_file ? blueprint_file->UsesDependencyValues()
                                                     : builtin->Of("").uses_dependency_values;

  // Read: a signal while reading (a slow producer, a terminal) ends the run here.
  TaskList tasks;
  EarlierResults earlier;
  try {
    // A shard keeps only its share as it reads, so its memory follows its share.
    TaskFilter in_shard;
    if (options.shard) {
      in_shard = [shard = *options.shard](TaskId id) {
        return ShardOf(id, shard.count) == shard.index;
      };
    }
    // A terminal read with no word would look like a hang: say so once, as cat-like tools do.
    if (options.tasks_path == "-" && !options.quiet && ::isatty(STDIN_FILENO) == 1) {
      PrintToStderr(
          "orchestrator: reading tasks from standard input (Ctrl-D to end, --help for usage)\n");
    }
    ReadOptions read;
    read.dependency_order = uses_dependency_values;
    tasks = ReadTasks(InputFile::Open(options.tasks_path, signals.fd()),
                      kinds ? &*kinds : builtin->kinds(), in_shard, read);
    for (const std::string& warning : tasks.warnings) {
      PrintToStderr("orchestrator: warning: {}\n", warning);
    }
    for (const std::string& warning : LimitWarnings(limits, tasks.type_names)) {
      PrintToStderr("orchestrator: warning: {}\n", warning);
    }
    earlier = ReadResumeFile(options, signals.fd(), capture_columns, csv_readings);
  } catch (const Interrupted&) {
    PrintToStderr("orchestrator: interrupted by {} while reading the input; nothing was run\n",
                  SignalName(signals.received()));
    return kExitSignalBase + signals.received();
  }
  const std::size_t duplicates = tasks.rows - tasks.tasks.size();
  // A shard runs its share of the unique tasks (with dependencies, drawn only now that the
  // groups are known), before --resume takes any, so that every process, rerun or not, draws
  // the same lines.
  if (options.shard) KeepShard(tasks, *options.shard);
  const std::size_t unique_tasks = tasks.tasks.size();
  // What parents carried over captured, for their children's {dep.NAME}.
  CarriedParentValues carried_values;
  if (uses_dependency_values) carried_values = CarriedParentValuesOf(tasks, earlier);
  const std::vector<TaskId> carried = TakeCompleted(tasks, earlier);
  if (options.dry_run != Options::DryRun::kOff) {
    // Everything is read and checked; nothing is opened for writing, nothing sent.
    CheckCouldWrite(options.output_path, "results");
    CheckCouldWrite(options.events_path, "events");
    CheckCouldWrite(options.metrics_path, "metrics");
    CheckCouldWrite(options.report_path, "the report");
    std::vector<const Blueprint*> kind_of_type;
    for (const std::string& type : tasks.type_names) {
      kind_of_type.push_back(blueprint_file ? blueprint_file->Find(type) : &builtin->Of(type));
    }
    return DryRun(options, tasks, kind_of_type, capture_columns, carried, carried_values,
                  duplicates, RunFileGuard(run_files));
  }
  const std::size_t threads = PlanThreads(options.threads, DefaultThreadCount());
  const bool saving_bodies =
      blueprint_file ? blueprint_file->SavesBodies() : options.request.save.has_value();
  const Fallible<std::size_t> fetches_allowed = ChooseMaxFetches(options, threads, saving_bodies);
  if (const auto* problem = std::get_if<std::string>(&fetches_allowed)) {
    PrintToStderr("orchestrator: {}\n", *problem);
    return kExitEnvironment;
  }
  const std::size_t max_fetches = std::get<std::size_t>(fetches_allowed);

  // The collector's loop: signals, the closed-reader watch and the output. With one
  // thread the worker's runner, curl and timers share it too.
  boost::asio::io_context io(1);
  // stdout and stderr at their readers' pace (a pipe, a terminal): a reader that stalls holds
  // up neither the run nor --output, the events file, the metrics or a signal.
  OutputStream results(STDOUT_FILENO, "stdout", OutputStream::FlushPolicy::kWhenAsked,
                       OutputStream::PaceFor(STDOUT_FILENO));
  OutputStream events(STDERR_FILENO, "stderr", OutputStream::FlushPolicy::kWhenAsked,
                      OutputStream::PaceFor(STDERR_FILENO));
  // Each task type's blueprint: the file's (the reader checked every type has one), or the
  // built-in one with the columns of the limits naming the type.
  std::vector<const Blueprint*> blueprints;
  for (const std::string& type : tasks.type_names) {
    blueprints.push_back(blueprint_file ? blueprint_file->Find(type) : &builtin->Of(type));
  }
  // The outputs a FIFO may be: opening one waits for its reader, and a signal ends the wait.
  std::optional<ResultFile> result_file;
  std::optional<EventLog> event_log;
  try {
    if (!options.output_path.empty()) {
      result_file.emplace(ResultFile::Create(options.output_path, "results", signals.fd()));
    }
    if (!options.events_path.empty()) {
      event_log.emplace(options.events_path, tasks.type_names, blueprints, signals.fd(),
                        capture_columns);
    }
  } catch (const InterruptedWhileOpening& interrupted) {
    PrintToStderr("orchestrator: interrupted by {} while opening {}; nothing was run\n",
                  SignalName(signals.received()), interrupted.path());
    return kExitSignalBase + signals.received();
  }
  std::optional<OutputStream> file_results;
  std::vector<OutputStream*> result_streams{&results};
  if (result_file) {
    file_results.emplace(result_file->fd(), result_file->path(),
                         OutputStream::FlushPolicy::kWhenAsked,
                         OutputStream::PaceFor(result_file->fd()));
    result_streams.push_back(&*file_results);
  }
  Reporter reporter(result_streams, options.quiet ? nullptr : &events, &events,
                    std::move(capture_columns), options.result_format);
  std::optional<MetricsFile> metrics;
  if (!options.metrics_path.empty()) metrics.emplace(options.metrics_path, events, options.shard);
  std::optional<StatusLine> status;
  std::chrono::milliseconds status_every{0};
  // Not when the rows go to the terminal too, or an output named after it (--events
  // /dev/stderr): they would be written through it.
  if (!options.quiet && !options.no_progress && IsStatusTerminal(STDERR_FILENO) &&
      ::isatty(STDOUT_FILENO) != 1 && !WritesTo(run_files, STDERR_FILENO)) {
    status.emplace(events, StatusLine::Mode::kTerminal, STDERR_FILENO, ColourFor(STDERR_FILENO));
    status_every = kStatusLineEvery;
  } else if (!options.quiet && options.progress) {
    status.emplace(events, StatusLine::Mode::kPlain, STDERR_FILENO);
    status_every = kProgressLineEvery;
  }
  // The closing report, unless -q; to --report-file FILE even then.
  std::optional<RunReport> report;
  if (!options.quiet || !options.report_path.empty()) {
    report.emplace(options.quiet ? nullptr : &events,
                   options.report_json ? RunReport::Format::kJson : RunReport::Format::kText,
                   options.report_path, events);
  }
  // How often the workers send their counts: as often as a watcher redraws, at most every
  // 250 ms; at their end only, for the report alone.
  std::optional<std::chrono::milliseconds> stats_every;
  if (status) stats_every = std::min(status_every, kStatsEvery);
  if (metrics) stats_every = std::min(stats_every.value_or(kStatsEvery), kStatsEvery);
  if (report && !stats_every) stats_every = std::chrono::milliseconds(0);

  // The header and the carried-over rows go out in bulk; then the results file takes its
  // place under its name and gets each new row as it comes. A stream that failed here stops
  // the run before it starts (the collector sees it).
  reporter.WriteHeader();
  for (const TaskId id : carried) {
    Outcome outcome = Outcome::Completed();
    outcome.captured = earlier.CapturedOf(id);
    reporter.CarryOver(id, outcome);
  }
  earlier = {};  // its ids and values are in the rows now
  reporter.Flush();
  if (result_file && !file_results->failed()) {
    if (const int error = result_file->Publish(); error != 0) file_results->Fail(error);
    file_results->set_policy(OutputStream::FlushPolicy::kEveryWrite);
  }

  // The outputs are in place under their names now: a body's file a task's values name must
  // not be one of them, nor any file the run reads.
  const auto run_file_guard = std::make_shared<const RunFileGuard>(run_files);
  const auto save_refused = [run_file_guard](const std::string& path) {
    return run_file_guard->Refusal(path);
  };

  CurlLibrary curl;
  const std::uint64_t seed = std::random_device{}();
  // Shared by every worker.
  RunRules rules(options.halt, options.rate, std::move(limits), tasks.type_names, blueprints);
  Collector collector(io, reporter, tasks.type_names, signals, STDOUT_FILENO, rules.halt());
  if (metrics) collector.Watch(*metrics, kMetricsEvery);
  if (status) collector.Watch(*status, status_every);
  if (report) collector.Watch(*report, std::chrono::milliseconds(0));
  if (event_log) collector.Observe(*event_log);
  std::vector<WorkerPlan> plans = PlanWorkers(std::move(tasks), threads, max_fetches);
  const std::size_t thread_count = plans.size();
  for (std::size_t k = 0; k < thread_count; ++k) {
    const std::size_t fetches = plans[k].max_fetches;
    collector.Add(std::make_unique<Worker>(
        std::move(plans[k].tasks), blueprints,
        Worker::Options{.runner = {.max_fetches = fetches,
                                   .seed = seed + k,
                                   .rates = &rules.rates(),
                                   .limits = rules.limits(),
                                   .adapt_to_load = true,
                                   .halt = rules.halt(),
                                   .carried = &carried_values},
                        .http = CurlEngines({.max_connections = fetches,
                                             .max_body = options.max_body,
                                             .user_agent = fmt::format("orchestrator/{}", kVersion),
                                             .ca_file = options.ca_file,
                                             .insecure = options.insecure,
                                             .http_version = options.http_version,
                                             .save_refused = save_refused}),
                        .own_thread = thread_count > 1,
                        .stats_every = stats_every,
                        .events = event_log.has_value()},
        io, collector.Deliverer()));
  }
  plans.clear();

  RunEnd end = collector.Run();
  reporter.Flush();
  events.SetBottomLine({});  // gone already, unless the run ended in an internal error
  // Every row is written to the regular files; the readers of stdout, stderr and any FIFO get
  // the rest as they take it. A signal ends that wait: the run's first, or, when the first
  // stopped the run, a second one after SignalWatch::kSameInterruption (which ends the
  // process at once).
  const int interrupt_fd = signals.received() == 0 ? signals.fd() : -1;
  const bool all_taken = results.WaitUntilWritten(interrupt_fd) &&
                         (!file_results || file_results->WaitUntilWritten(interrupt_fd)) &&
                         (!event_log || event_log->WaitUntilWritten(interrupt_fd)) &&
                         events.WaitUntilWritten(interrupt_fd);
  if (!all_taken) {
    end.signal = signals.received();
    PrintToStderr("orchestrator: {} came while a reader had not taken every line; {}\n",
                  SignalName(end.signal),
                  result_file ? fmt::format("{} holds every row", result_file->path())
                              : std::string("stdout is incomplete"));
  }
  return Conclude(options, end, reporter, unique_tasks, duplicates, carried.size(), started);
}

// `orchestrator merge`: the shards' result files into one result CSV on stdout.
int RunMerge(const MergeOptions& options) {
  ResultMerge merge(options.files);
  std::vector<TaskId> task_ids;  // 8 bytes a task: the TaskList is gone before the merge
  if (!options.tasks_path.empty()) {
    const TaskList tasks = ReadTasks(InputFile::Open(options.tasks_path));
    for (const std::string& warning : tasks.warnings) {
      PrintToStderr("orchestrator: warning: {}\n", warning);
    }
    task_ids = SortedUniqueIds(tasks);
  }
  merge.Read();
  if (options.format) merge.SetOutputFormat(*options.format);
  merge.CheckOutput(STDOUT_FILENO);
  if (!options.tasks_path.empty()) {
    merge.ExpectTasks(task_ids, options.tasks_path);
    task_ids = {};
  }
  for (const std::string& warning : merge.warnings()) {
    PrintToStderr("orchestrator: warning: {}\n", warning);
  }

  OutputStream out(STDOUT_FILENO, "stdout", OutputStream::FlushPolicy::kWhenAsked);
  const MergeSummary summary = merge.Write(out);
  if (out.error() == EPIPE) return kExitReaderGone;
  if (out.failed()) {
    PrintToStderr(
        "orchestrator: error: cannot write the merge to stdout: {}; it is "
        "incomplete\n",
        std::strerror(out.error()));
    return kExitOutputError;
  }
  if (!options.quiet) {
    std::vector<std::string> notes;
    if (summary.duplicates > 0) {
      notes.push_back(fmt::format("{} duplicate row{} left out", summary.duplicates,
                                  summary.duplicates == 1 ? "" : "s"));
    }
    if (summary.missing > 0) notes.push_back(fmt::format("{} missing", summary.missing));
    PrintToStderr("orchestrator: merged {} file{}: {} Completed, {} Failed{}\n", summary.files,
                  summary.files == 1 ? "" : "s", summary.completed, summary.failed,
                  notes.empty() ? "" : fmt::format(" ({})", fmt::join(notes, ", ")));
  }
  return summary.failed > 0 ? kExitSomeFailed : kExitCompleted;
}

}  // namespace
}  // namespace orchestrator

int main(int argc, char** argv) {
  using namespace orchestrator;
  OpenNullOnClosedStandardDescriptors();
  // From the start: a usage error to a stderr whose reader left is still exit 2, and a
  // --help whose reader left (`| head -1`) exit 141, not a death by SIGPIPE.
  IgnoreSigpipe();
  try {
    if (IsMergeCommand(argc, argv)) {
      const MergeCommandLine merge = ParseMergeCommandLine(argc, argv);
      switch (merge.action) {
        case MergeCommandLine::Action::kPrint:
          return PrintToStdout(merge.text);
        case MergeCommandLine::Action::kUsageError:
          PrintToStderr(
              "orchestrator: merge: {}\nTry 'orchestrator merge --help' for more "
              "information.\n",
              merge.text);
          return kExitUsage;
        case MergeCommandLine::Action::kRun:
          return RunMerge(merge.options);
      }
    }
    const CommandLine command_line = ParseCommandLine(argc, argv);
    switch (command_line.action) {
      case CommandLine::Action::kPrint:
        return PrintToStdout(command_line.text);
      case CommandLine::Action::kUsageError:
        PrintToStderr("orchestrator: {}\nTry 'orchestrator --help' for more information.\n",
                      command_line.text);
        return kExitUsage;
      case CommandLine::Action::kRun: {
        // From the start: a signal while the input is still being read ends the run too.
        const SignalWatch signals;
        return Run(command_line.options, signals);
      }
    }
  } catch (const InputError& error) {
    PrintToStderr("orchestrator: {}\n", error.what());
    return kExitUsage;
  } catch (const std::exception& error) {
    PrintToStderr("orchestrator: internal error: {}\n", error.what());
  } catch (...) {
    PrintToStderr("orchestrator: internal error: an exception of unknown type\n");
  }
  return kExitInternal;
}

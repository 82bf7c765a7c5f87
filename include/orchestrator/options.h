// The command line.
#ifndef ORCHESTRATOR_OPTIONS_H_
#define ORCHESTRATOR_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "orchestrator/blueprint.h"
#include "orchestrator/blueprint_file.h"
#include "orchestrator/duration.h"
#include "orchestrator/halt_policy.h"
#include "orchestrator/http_client.h"
#include "orchestrator/result_format.h"
#include "orchestrator/running_limits.h"
#include "orchestrator/shard.h"

namespace orchestrator {

/// Everything a run is configured with, defaults included.
struct Options {
  std::string tasks_path = "-";  ///< "-" reads standard input
  std::string url = "https://httpbin.org/get";
  Duration delay{5'000};
  Duration timeout{10'000};
  Duration connect_timeout{10'000};
  int retries = 2;
  Duration retry_delay{1'000};
  std::size_t max_connections = 64;
  /// Event loops (threads), each with its share of tasks and connections; 0: one per CPU.
  std::size_t threads = 0;
  std::optional<std::uint64_t> max_body;  ///< a larger response body fails the fetch
  std::string output_path;                ///< also write the result CSV here ("" = no)
  std::string metrics_path;               ///< --metrics: Prometheus textfile ("" = no)
  std::string events_path;                ///< --events: JSON Lines of task events ("" = no)
  std::string resume_path;                ///< skip tasks this earlier result CSV completed
  std::string blueprints_path;            ///< the blueprint file ("" = the built-in blueprint)
  /// --format: of the results on stdout and in --output.
  ResultFormat result_format = ResultFormat::kCsv;
  /// The fetch settings given on the command line: they rank above a blueprint file's
  /// [defaults] and below a step's own.
  FetchSettings fetch_flags;
  std::optional<double> rate;        ///< --rate, fetch attempts a second
  std::vector<RunningLimit> limits;  ///< --limit, each
  HaltPolicy halt;                   ///< --halt: when the run stops starting tasks
  std::string halt_text = "never";   ///< --halt as given, for messages
  /// The built-in blueprint's request beyond --url: -X, -H, -d, --data-file, --capture,
  /// --save.
  RequestFlags request;
  /// --save-anywhere: a fetch's saved files may be outside the current folder.
  bool save_anywhere = false;
  /// Engine-wide, with a blueprint file too: --cacert, -k, --http1.1 / --http2.
  std::string ca_file;
  bool insecure = false;
  HttpVersion http_version = HttpVersion::kDefault;
  bool quiet = false;
  bool progress = false;     ///< --progress: a plain progress line every 10 s off a terminal
  bool no_progress = false;  ///< --no-progress: no status line on a terminal
  bool report_json = false;  ///< --report json: the closing report as one line of JSON
  std::string report_path;   ///< --report-file: the closing report as JSON ("" = none)
  /// This process's share of a run split over several (--shard, or the environment of a
  /// Slurm job array or a Kubernetes Indexed Job); none: the whole run. The paths above have
  /// had "{shard}" replaced.
  std::optional<Shard> shard;
  /// --dry-run (-n): read and check everything, then print each request as a curl command
  /// line instead of sending it (dry_run.h); --dry-run=unmasked shows secrets too.
  enum class DryRun : std::uint8_t { kOff, kMasked, kUnmasked };
  DryRun dry_run = DryRun::kOff;
};

/// What the command line asks for.
struct CommandLine {
  enum class Action {
    kRun,         ///< run with `options`
    kPrint,       ///< print `text` on stdout and exit 0 (--help, --version)
    kUsageError,  ///< print `text` as an error and exit 2
  };
  Action action = Action::kRun;
  Options options;
  std::string text;
};

/// Parses argv (CLI11); ORCHESTRATOR_URL stands in for --url when the flag is absent, and
/// the environment of a Slurm job array or a Kubernetes Indexed Job for --shard (see
/// ShardFromEnvironment; `lookup` reads it, std::getenv by default). Never throws and never
/// prints. A usage error's text never shows the password of a URL or the
/// value of a -H header (each word of it), whatever it quotes. Reads no file: --cacert is
/// only checked to be a readable file, --data-file is read by FetchOf.
CommandLine ParseCommandLine(int argc, const char* const* argv,
                             const EnvironmentLookup& lookup = nullptr);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_OPTIONS_H_

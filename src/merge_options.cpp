#include "orchestrator/merge_options.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <string_view>

#include "orchestrator/version_text.h"
#include "parse_error_words.h"

namespace orchestrator {
namespace {

constexpr std::string_view kDescription =
    "Merges the result files of a run's shards (--shard K/N), CSV or JSON Lines, into one, on "
    "stdout: the header once, each task once. A task in two files keeps its Completed row over a "
    "Failed one, "
    "else the later file's (further right); different Failed reasons are warned about. Each "
    "FILE must be a regular file: it is read twice.";

constexpr std::string_view kFooter =
    "Exit status: 0 every row Completed, 1 some Failed (or missing from every file with\n"
    "--tasks), 2 usage or input error (nothing written), 3 the output could not be written,\n"
    "141 stdout was closed by its reader.";

}  // namespace

bool IsMergeCommand(int argc, const char* const* argv) {
  return argc >= 2 && std::string_view(argv[1]) == "merge";
}

MergeCommandLine ParseMergeCommandLine(int argc, const char* const* argv) {
  MergeCommandLine result;
  MergeOptions& options = result.options;
  CLI::App app{std::string(kDescription), "orchestrator merge"};
  app.footer(std::string(kFooter));
  app.set_version_flag("-V,--version", VersionText());
  app.add_option("FILE", options.files, "Result CSVs of the shards, in order")
      ->required()
      ->type_name("FILE");
  app.add_option("--tasks", options.tasks_path,
                 "The run's tasks CSV: each unique task must be in a file (a missing one is "
                 "written Failed, exit 1), and no file may have another")
      ->type_name("TASKS_CSV");
  app.add_option_function<std::string>(
         "--format",
         [&options](const std::string& name) { options.format = ParseResultFormat(name); },
         "The merge's format: csv or jsonl; JSON Lines files may be written as csv (a column "
         "per capture key), a CSV's not as jsonl [default: the files' format]")
      ->check(CLI::IsMember({"csv", "jsonl"}))
      ->type_name("FORMAT");
  app.add_flag("-q,--quiet", options.quiet, "No closing summary on stderr (warnings stay)");
  // argv[0] and "merge" are the command's name.
  const int merge_argc = argc - 1;
  const char* const* merge_argv = argv + 1;
  // Wherever they stand, and before any mistake in the rest (a missing FILE).
  switch (HelpOrVersionAsked(merge_argc, merge_argv)) {
    case FirstAsked::kHelp:
      return {MergeCommandLine::Action::kPrint, options, app.help()};
    case FirstAsked::kVersion:
      return {MergeCommandLine::Action::kPrint, options, app.version() + "\n"};
    case FirstAsked::kNothing:
      break;
  }
  try {
    app.parse(merge_argc, merge_argv);
  } catch (const CLI::CallForHelp&) {
    result.action = MergeCommandLine::Action::kPrint;
    result.text = app.help();
  } catch (const CLI::CallForVersion& version) {
    result.action = MergeCommandLine::Action::kPrint;
    result.text = std::string(version.what()) + "\n";
  } catch (const CLI::ParseError& error) {
    result.action = MergeCommandLine::Action::kUsageError;
    result.text = ParseErrorWords(app, error, merge_argc, merge_argv);
  }
  return result;
}

}  // namespace orchestrator

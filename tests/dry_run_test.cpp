// --dry-run: shell words, curl command lines, and the plan a dry run prints.
#include "orchestrator/dry_run.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "orchestrator/blueprint.h"
#include "orchestrator/curl_command.h"
#include "orchestrator/options.h"
#include "subprocess.h"

namespace orchestrator {
namespace {

using testing::ProcessResult;
using testing::RunProcess;

bool AllPrintableAscii(std::string_view text) {
  for (const char c : text) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

TEST(ShellWordTest, BashReadsBackEveryByteAndRunsNothing) {
  const std::vector<std::string> texts = {
      "plain",       "a b",         "it's",          "'",           "''\\'",
      "$(touch x)",  "`id`",        "$HOME ${PATH}", "a\nb",        "\r\n\t",
      "\x1b[31mred", "\x7f",        "\xc2\x9b\xff",  "caf\xc3\xa9", "!event",
      "a\\",         "\\x41",       "*?[a]",         "~",           "-n",
      "--url",       "x;y|z&w>v<u", "\"quoted\"",    " ",           "#comment"};
  for (const std::string& text : texts) {
    SCOPED_TRACE(text);
    const std::string word = ShellWord(text);
    EXPECT_TRUE(AllPrintableAscii(word)) << word;
    const ProcessResult result = RunProcess({"/bin/bash", "-c", "printf %s " + word});
    EXPECT_EQ(result.exit_status, 0) << result.err;
    EXPECT_EQ(result.out, text) << word;
  }
  EXPECT_EQ(ShellWord("plain"), "plain");
  EXPECT_EQ(ShellWord(""), "''");
  EXPECT_EQ(ShellWord("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellWord("a\nb"), "$'a\\x0ab'");
}

CurlCommandSettings Settings() {
  CurlCommandSettings settings;
  settings.user_agent = "orchestrator/1.0";
  return settings;
}

TEST(CurlCommandTest, AGetIsTheUrlWithTheEnginesSettings) {
  const CurlCommand command =
      CurlCommandOf({.url = "http://h/a?b=1&c", .timeout = Duration(2500)}, Settings());
  EXPECT_EQ(command.problem, "");
  EXPECT_EQ(command.line,
            "curl --globoff --path-as-is --location --max-redirs 10 --proto =http,https "
            "--proto-redir =http,https --connect-timeout 10 --max-time 2.5 --user-agent "
            "orchestrator/1.0 --url 'http://h/a?b=1&c'");
}

TEST(CurlCommandTest, MethodsHeadersBodiesAndTls) {
  CurlCommandSettings settings = Settings();
  settings.insecure = true;
  settings.ca_file = "/etc/my ca.pem";
  settings.http_version = HttpVersion::kHttp11;
  FetchRequest post{.url = "https://h/", .method = HttpMethod::kPost};
  post.headers = {{"X-A", "it's"}, {"X-Empty", ""}};
  const std::string line = CurlCommandOf(post, settings).line;
  for (const char* part : {" --http1.1", " --insecure", " --cacert '/etc/my ca.pem'",
                           " -H 'X-A: it'\\''s' -H 'X-Empty;' -H Expect: -H Content-Type: "
                           "--data-raw ''"}) {
    EXPECT_NE(line.find(part), std::string::npos) << part << " in " << line;
  }
  EXPECT_EQ(line.find("--request"), std::string::npos) << line;

  FetchRequest put{.url = "https://h/", .method = HttpMethod::kPut};
  put.headers = {{"content-type", "text/plain"}};
  put.body =
      "a\x1b"
      "b";
  const std::string put_line = CurlCommandOf(put, Settings()).line;
  EXPECT_NE(put_line.find(" --request PUT -H 'content-type: text/plain' -H Expect: --data-raw "
                          "$'a\\x1bb'"),
            std::string::npos)
      << put_line;

  FetchRequest with_nul{.url = "https://h/", .method = HttpMethod::kPost};
  with_nul.body = std::string("a\0%\\'b", 6);
  const std::string nul_line = CurlCommandOf(with_nul, Settings()).line;
  EXPECT_EQ(nul_line.rfind("printf 'a\\000%%\\\\'\\''b' | curl ", 0), 0u) << nul_line;
  EXPECT_NE(nul_line.find(" --data-binary @-"), std::string::npos) << nul_line;

  const std::string head_line =
      CurlCommandOf({.url = "https://h/", .method = HttpMethod::kHead}, Settings()).line;
  EXPECT_NE(head_line.find(" --head "), std::string::npos) << head_line;
  const std::string delete_line =
      CurlCommandOf({.url = "https://h/", .method = HttpMethod::kDelete}, Settings()).line;
  EXPECT_NE(delete_line.find(" --request DELETE --url"), std::string::npos) << delete_line;
  FetchRequest get_with_body{.url = "https://h/"};
  get_with_body.body = "x";
  const std::string get_line = CurlCommandOf(get_with_body, Settings()).line;
  EXPECT_NE(get_line.find(" --request GET "), std::string::npos) << get_line;
}

TEST(CurlCommandTest, WhatTheEngineRefusesIsAProblemNotALine) {
  FetchRequest head{.url = "https://h/", .method = HttpMethod::kHead};
  head.body = "";
  EXPECT_EQ(CurlCommandOf(head, Settings()).problem, "a HEAD request cannot send a body");
  FetchRequest broken{.url = "https://h/"};
  broken.headers = {{"X-A", "a\r\nX-Evil: 1"}};
  EXPECT_EQ(CurlCommandOf(broken, Settings()).problem,
            "header X-A has a line break or NUL in its value");
  EXPECT_EQ(CurlCommandOf(broken, Settings()).line, "");
  FetchRequest bad_name{.url = "https://h/"};
  bad_name.headers = {{"X A", "v"}};
  EXPECT_EQ(CurlCommandOf(bad_name, Settings()).problem, "header 1 has an invalid name");
}

Template Parsed(std::string_view text, TemplateContext context) {
  auto parsed =
      Template::Parse(text, context, [](std::string_view name) -> std::optional<std::size_t> {
        if (name == "task_id") return kTaskIdSlot;
        if (name == "task_type") return kTaskTypeSlot;
        if (name == "sku") return kFirstCaptureSlot + 0;
        if (name == "dep.sku") return kFirstDependencySlot + 0;
        if (name == "deps.sku") return kFirstDependenciesSlot + 0;
        return std::nullopt;
      });
  if (auto* error = std::get_if<Template::Error>(&parsed)) {
    ADD_FAILURE() << error->message;
    return {};
  }
  return std::get<Template>(std::move(parsed));
}

struct Fixture {
  TaskList tasks;
  Blueprint blueprint;
  std::vector<const Blueprint*> blueprints;
  std::vector<std::string> capture_columns = {"sku"};
  std::vector<TaskId> carried;

  DryRunPlan Plan() {
    blueprints = {&blueprint};
    return {.tasks = &tasks,
            .blueprints = blueprints,
            .capture_columns = capture_columns,
            .carried = carried,
            .resume_path = "done.csv",
            .carried_values = nullptr,
            .duplicates = 0,
            .curl = Settings(),
            .unmasked = false,
            .save_refused = {}};
  }
};

std::string Print(const DryRunPlan& plan, DryRunCounts* counts = nullptr) {
  std::string out;
  const DryRunCounts got = WriteDryRun(plan, [&out](std::string_view text) {
    out += text;
    return true;
  });
  if (counts != nullptr) *counts = got;
  return out;
}

Fixture Chain() {
  Fixture f;
  f.tasks.type_names = {"t\x1b[2Jx"};
  f.tasks.tasks = {{.id = 10}, {.id = 20}, {.id = 30}};
  // 10 waits for 30.
  f.tasks.graph =
      TaskGraph::FromEdges(3, {{.parent = 2, .child = 0, .kind = Dependency::kSuccess}});
  FetchStep fetch = GetOf("http://u:pa55word@h/{task_id}");
  fetch.headers.push_back(
      {"Authorization", Parsed("Bearer s3cr3t-{task_id}", TemplateContext::kHeader)});
  f.blueprint.steps = {{"get", fetch},
                       {"nap", DelayStep{.duration = Duration(1500), .column = std::nullopt}},
                       {"say", EmitStep{Parsed("done {task_id}", TemplateContext::kText)}}};
  return f;
}

TEST(DryRunTest, TasksComeAfterTheirParentsWithEachStepMaskedAndTerminalSafe) {
  Fixture f = Chain();
  f.carried = {5};
  DryRunCounts counts;
  const std::string out = Print(f.Plan(), &counts);
  EXPECT_EQ(counts.tasks, 3u);
  EXPECT_EQ(counts.requests, 3u);
  EXPECT_NE(out.find("# orchestrator --dry-run: 3 tasks would run (1 carried over from done.csv); "
                     "nothing is sent\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("# task 5: carried over from done.csv\n"), std::string::npos) << out;
  const std::size_t first = out.find("# task 20 (t?[2Jx), step 1/3 get: fetch\n");
  const std::size_t second = out.find("# task 30 (t?[2Jx), step 1/3 get: fetch\n");
  const std::size_t third = out.find("# task 10 (t?[2Jx), step 1/3 get: fetch\n");
  EXPECT_TRUE(first < second && second < third && third != std::string::npos) << out;
  EXPECT_NE(out.find("# task 10 (t?[2Jx), step 2/3 nap: wait 1.5s\n"), std::string::npos) << out;
  EXPECT_NE(out.find("# task 10 (t?[2Jx), step 3/3 say: a line on stderr: done 10\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("s3cr3t"), std::string::npos) << out;
  EXPECT_EQ(out.find("pa55word"), std::string::npos) << out;
  EXPECT_NE(out.find("-H 'Authorization: ***'"), std::string::npos) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos);

  DryRunPlan unmasked = f.Plan();
  unmasked.unmasked = true;
  const std::string shown = Print(unmasked);
  EXPECT_NE(shown.find("-H 'Authorization: Bearer s3cr3t-10'"), std::string::npos) << shown;
  EXPECT_NE(shown.find("--url http://u:pa55word@h/10"), std::string::npos) << shown;
}

TEST(DryRunTest, AValueOnlyTheRunHasIsAPlaceholderSaidSo) {
  Fixture f;
  f.tasks.type_names = {"t"};
  f.tasks.tasks = {{.id = 1}};
  FetchStep fetch = GetOf("http://h/x");
  fetch.url = Parsed("http://h/{task_id}?a={sku}&b={dep.sku}&c={deps.sku}", TemplateContext::kUrl);
  f.blueprint.steps = {{"use", fetch}};
  DryRunCounts counts;
  const std::string out = Print(f.Plan(), &counts);
  EXPECT_EQ(counts.with_run_values, 1u);
  EXPECT_NE(out.find("# {sku} is a value only the run has: shown as __sku__\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("# {dep.sku} is a value only the run has: shown as __dep.sku__\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("# {deps.sku} is a value only the run has: shown as [\"__deps.sku__\"]\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("--url 'http://h/1?a=__sku__&b=__dep.sku__&c=%5B%22__deps.sku__%22%5D'"),
            std::string::npos)
      << out;
}

TEST(DryRunTest, AStepTheRunWouldFailEndsTheTaskThere) {
  Fixture f;
  f.tasks.type_names = {"t"};
  f.tasks.tasks = {{.id = 1}};
  FetchStep head = GetOf("http://h/x");
  head.method = HttpMethod::kHead;
  head.body = Parsed("x", TemplateContext::kBody);
  f.blueprint.steps = {{"peek", head}, {"say", EmitStep{}}};
  DryRunCounts counts;
  const std::string out = Print(f.Plan(), &counts);
  EXPECT_EQ(counts.failing, 1u);
  EXPECT_EQ(counts.requests, 0u);
  EXPECT_NE(out.find("# task 1 (t), step 1/2 peek: fetch; the run would fail the task here: could "
                     "not start the request: a HEAD request cannot send a body\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("say"), std::string::npos) << out;
}

TEST(DryRunTest, ItWritesInBoundedPiecesAndStopsWhenTheWriterFails) {
  Fixture f = Chain();
  f.tasks.graph = {};
  f.tasks.tasks.clear();
  for (TaskId id = 1; id <= 20'000; ++id) f.tasks.tasks.push_back({.id = id});
  std::size_t calls = 0;
  std::size_t largest = 0;
  WriteDryRun(f.Plan(), [&](std::string_view text) {
    ++calls;
    largest = std::max(largest, text.size());
    return true;
  });
  EXPECT_GT(calls, 10u);
  EXPECT_LT(largest, 80'000u);
  calls = 0;
  const DryRunCounts counts = WriteDryRun(f.Plan(), [&](std::string_view) {
    ++calls;
    return false;
  });
  EXPECT_EQ(calls, 1u);
  EXPECT_LT(counts.tasks, 1'000u);
}

Options::DryRun DryRunOf(std::vector<const char*> args, std::string* tasks_path = nullptr,
                         CommandLine::Action* action = nullptr) {
  args.insert(args.begin(), "orchestrator");
  const CommandLine line = ParseCommandLine(static_cast<int>(args.size()), args.data(),
                                            [](const char*) -> const char* { return nullptr; });
  if (tasks_path != nullptr) *tasks_path = line.options.tasks_path;
  if (action != nullptr) *action = line.action;
  return line.options.dry_run;
}

// A flag, not an option with an optional value: the word after it is still the tasks file.
TEST(DryRunOptionTest, AFlagWithAnOptionalUnmasked) {
  std::string tasks;
  CommandLine::Action action{};
  EXPECT_EQ(DryRunOf({"tasks.csv"}), Options::DryRun::kOff);
  EXPECT_EQ(DryRunOf({"-n", "tasks.csv"}, &tasks), Options::DryRun::kMasked);
  EXPECT_EQ(tasks, "tasks.csv");
  EXPECT_EQ(DryRunOf({"--dry-run", "tasks.csv"}, &tasks), Options::DryRun::kMasked);
  EXPECT_EQ(tasks, "tasks.csv");
  EXPECT_EQ(DryRunOf({"--dry-run=unmasked", "tasks.csv"}, &tasks), Options::DryRun::kUnmasked);
  EXPECT_EQ(tasks, "tasks.csv");
  DryRunOf({"--dry-run=everything", "tasks.csv"}, &tasks, &action);
  EXPECT_EQ(action, CommandLine::Action::kUsageError);
}

}  // namespace
}  // namespace orchestrator

// End to end: --dry-run (issue #27). The curl lines it prints, run by the real curl, send what
// a run sends; nothing is sent or created by the dry run itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_support.h"
#include "subprocess.h"
#include "test_server.h"

namespace orchestrator::testing {
namespace {

// A request as the server read it, as one string: method, target, every header (curl's own
// too: Host, User-Agent, Accept, Content-Length) in order, and the body.
std::string Shown(const TestServer::RecordedRequest& request) {
  std::string text = request.method + " " + request.target + "\n";
  for (const auto& [name, value] : request.headers) text += name + ": " + value + "\n";
  return text + "\n" + request.body;
}

std::vector<std::string> Sorted(const std::vector<TestServer::RecordedRequest>& requests) {
  std::vector<std::string> shown;
  for (const auto& request : requests) shown.push_back(Shown(request));
  std::sort(shown.begin(), shown.end());
  return shown;
}

// The dry run's command lines (its lines that are not comments).
std::vector<std::string> CommandLines(const std::string& out) {
  std::vector<std::string> commands;
  for (const std::string& line : Lines(out)) {
    if (!line.empty() && line[0] != '#') commands.push_back(line);
  }
  return commands;
}

// What the server got from running each of `commands` with bash and the real curl.
std::vector<TestServer::RecordedRequest> SentByCurl(TestServer& server,
                                                    const std::vector<std::string>& commands,
                                                    const std::string& cwd) {
  server.ResetCounters();
  for (const std::string& command : commands) {
    ProcessOptions options;
    options.cwd = cwd;
    const ProcessResult result = RunProcess({"/bin/bash", "-c", command}, options);
    EXPECT_EQ(result.exit_status, 0) << command << "\n" << result.err;
  }
  return server.RecordedRequests();
}

// Every step kind and every template kind: plain, raw and json placeholders in a URL, headers
// (one empty) and bodies; GET, HEAD, POST with and without a body, PUT, PATCH, DELETE, a GET
// with a body; a body with a NUL byte (printf | curl) and one with control characters ($'').
std::string EveryKindToml(const TestServer& server) {
  const std::string base = server.Url("/task/{task_id}");
  auto fetch = [&](const std::string& name, const std::string& rest) {
    return "[[types.all.steps]]\nname = \"" + name + "\"\n[types.all.steps.fetch]\n" + rest + "\n";
  };
  return "[defaults]\nretries = 0\n\n"
         "[types.all]\n"
         "columns = { name = \"string\", size = \"u32\", ok = \"bool\", b = \"bytes\", "
         "j = \"json\", path = \"string\", wait = \"duration\" }\n\n" +
         fetch("get", "url = \"" + base +
                          "/{path:raw}?n={name}&j={j:json}&b={b}&t={task_type}&s={size}\"\n"
                          "headers = { X-Name = \"{name}\", X-Json = \"{j:json}\", X-Raw = "
                          "\"{name:raw}\", X-Empty = \"\", Authorization = \"Bearer "
                          "tok-{task_id}\" }") +
         fetch("post", "method = \"POST\"\nurl = \"" + base +
                           "/post\"\nheaders = { Content-Type = \"application/json\" }\n"
                           "body = '{\"id\": {task_id:json}, \"name\": {name:json}, \"size\": "
                           "{size:json}, \"ok\": {ok:json}, \"b\": {b:json}, \"j\": {j:json}}|"
                           "{j:raw}|{name:raw}|{b}'") +
         "[[types.all.steps]]\nname = \"nap\"\ndelay = \"{wait}\"\n\n" +
         fetch("put", "method = \"PUT\"\nurl = \"" + base + "/put\"\nbody = \"{name}\\n{b:raw}\"") +
         fetch("patch", "method = \"PATCH\"\nurl = \"" + base +
                            "/patch\"\nbody = \"\"\nheaders = { Expect = \"\" }") +
         fetch("delete", "method = \"DELETE\"\nurl = \"" + base + "/delete?{name}\"") +
         fetch("head", "method = \"HEAD\"\nurl = \"" + base + "/head\"") +
         fetch("get-body", "url = \"" + base + "/get-body\"\nbody = \"{name:raw}\"") +
         fetch("post-empty", "method = \"POST\"\nurl = \"" + base + "/post-empty\"") +
         "[[types.all.steps]]\nname = \"say\"\nemit = \"done {task_id}: {name}\"\n";
}

// Hostile values: quotes, $( ), backticks, $VAR, a tab, UTF-8 (task 1's name, $'' quoted), the
// same in printable ASCII alone (task 2's, single-quoted); bytes with a NUL, ESC, DEL, a line
// break and a byte that is not UTF-8.
const std::string kHostileTasks =
    "task_id,task_type,name,size,ok,b,j,path,wait\n"
    "1,all,\"it's \"\"$(touch pwned)\"\" `touch pwned2` $HOME;|&\t\xc3\xa9\",007,true,"
    "AAEbWzMxbSciJGAKf/8=,\"{\"\"a\"\": \"\"x'y $z\"\", \"\"n\"\": [1.0, 2]}\",a/b,0s\n"
    "2,all,\"it's \"\"$(touch pwned3)\"\" `touch pwned4`\",2,false,G10wO3RpdGxlBwp/,null,c,0ms\n";

TEST(DryRunCliTest, ItsCurlLinesSendWhatARunSendsByteForByte) {
  TestServer server;
  TempDir dir;
  const std::string kinds = dir.Write("kinds.toml", EveryKindToml(server));
  const std::string tasks = dir.Write("tasks.csv", kHostileTasks);

  ProcessOptions in_dir;
  in_dir.cwd = dir.path();
  const ProcessResult dry =
      RunOrchestrator({"--dry-run=unmasked", "--blueprints", kinds, tasks}, in_dir);
  ASSERT_EQ(dry.exit_status, 0) << dry.err;
  EXPECT_EQ(server.requests(), 0u);
  const std::vector<std::string> commands = CommandLines(dry.out);
  ASSERT_EQ(commands.size(), 16u) << dry.out;
  // Task 1's two bodies with a NUL byte come from printf; task 2's control characters are $''.
  EXPECT_EQ(std::count_if(commands.begin(), commands.end(),
                          [](const std::string& c) { return c.starts_with("printf "); }),
            2)
      << dry.out;
  EXPECT_NE(dry.out.find("--data-raw $'"), std::string::npos) << dry.out;
  const std::vector<std::string> by_curl = Sorted(SentByCurl(server, commands, dir.path()));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/pwned"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/pwned2"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/pwned3"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/pwned4"));

  server.ResetCounters();
  const ProcessResult run =
      RunOrchestrator({"--blueprints", kinds, "--threads", "1", "-q", tasks}, in_dir);
  EXPECT_EQ(run.exit_status, 0) << run.err << run.out;
  const std::vector<std::string> by_run = Sorted(server.RecordedRequests());
  ASSERT_EQ(by_run.size(), 16u);
  EXPECT_EQ(by_curl, by_run);
}

// The built-in blueprint, its flags in curl's words, over HTTP/1.1.
TEST(DryRunCliTest, TheBuiltInBlueprintsCurlLinesSendWhatARunSends) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", "task_id,task_type\n7,a b\n8,'$x'\n");
  const std::vector<std::string> flags = {
      "--url",     server.Url("/task/{task_id}?t={task_type}"),
      "-X",        "PUT",
      "-H",        "X-Type: {task_type}",
      "-H",        "Authorization: Bearer abc 'def'",
      "-d",        "{\"id\": {task_id}, \"type\": \"{task_type}\"}",
      "--http1.1", "--delay",
      "0",         tasks};
  std::vector<std::string> dry_flags = flags;
  dry_flags.insert(dry_flags.begin(), "--dry-run=unmasked");
  const ProcessResult dry = RunOrchestrator(dry_flags);
  ASSERT_EQ(dry.exit_status, 0) << dry.err;
  const std::vector<std::string> commands = CommandLines(dry.out);
  ASSERT_EQ(commands.size(), 2u) << dry.out;
  EXPECT_NE(commands[0].find(" --http1.1 "), std::string::npos) << commands[0];
  const std::vector<std::string> by_curl = Sorted(SentByCurl(server, commands, dir.path()));

  server.ResetCounters();
  std::vector<std::string> run_flags = flags;
  run_flags.insert(run_flags.begin(), "-q");
  const ProcessResult run = RunOrchestrator(run_flags);
  EXPECT_EQ(run.exit_status, 0) << run.err;
  const std::vector<std::string> by_run = Sorted(server.RecordedRequests());
  ASSERT_EQ(by_run.size(), 2u);
  EXPECT_EQ(by_curl, by_run);
}

// Over TLS: the line carries --cacert, or -k, and curl's connection is accepted as the run's.
TEST(DryRunCliTest, OverTlsWithCacertOrInsecureTheLinesSendWhatARunSends) {
  TestServer server(TestServer::Options{.tls = true});
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(2));
  const std::vector<std::vector<std::string>> trusts = {
      {"--cacert", ORCHESTRATOR_TEST_DATA_DIR "/test-cert.pem"}, {"-k"}};
  for (const std::vector<std::string>& trust : trusts) {
    SCOPED_TRACE(trust[0]);
    std::vector<std::string> flags = {"--url",   server.Url("/task/{task_id}"),
                                      "-d",      "id={task_id}",
                                      "-H",      "X-Id: {task_id}",
                                      "--delay", "0",
                                      "-q",      tasks};
    flags.insert(flags.end(), trust.begin(), trust.end());
    std::vector<std::string> dry_flags = flags;
    dry_flags.insert(dry_flags.begin(), "--dry-run=unmasked");
    const ProcessResult dry = RunOrchestrator(dry_flags);
    ASSERT_EQ(dry.exit_status, 0) << dry.err;
    const std::vector<std::string> commands = CommandLines(dry.out);
    ASSERT_EQ(commands.size(), 2u) << dry.out;
    EXPECT_NE(commands[0].find(trust[0] == "-k" ? " --insecure " : " --cacert "), std::string::npos)
        << commands[0];
    const std::vector<std::string> by_curl = Sorted(SentByCurl(server, commands, dir.path()));
    server.ResetCounters();
    const ProcessResult run = RunOrchestrator(flags);
    EXPECT_EQ(run.exit_status, 0) << run.err;
    const std::vector<std::string> by_run = Sorted(server.RecordedRequests());
    ASSERT_EQ(by_run.size(), 2u);
    EXPECT_EQ(by_curl, by_run);
  }
}

TEST(DryRunCliTest, NothingIsSentAndNoFileIsCreated) {
  TestServer server;
  TempDir dir;
  dir.Write("tasks.csv", TasksCsv(3));
  const ProcessResult result = RunOrchestrator(
      {"-n", "--url", server.Url("/item/{task_id}"), "--save", "bodies/{task_id}.json", "--output",
       "results.csv", "--events", "events.jsonl", "--metrics", "metrics.prom", "--report-file",
       "report.json", "--resume", "earlier.csv", "tasks.csv"},
      [&] {
        ProcessOptions options;
        options.cwd = dir.path();
        return options;
      }());
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(CommandLines(result.out).size(), 3u) << result.out;
  EXPECT_NE(result.err.find("orchestrator: dry run: 3 tasks would run, 3 requests shown; nothing "
                            "was sent\n"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(server.requests(), 0u);
  EXPECT_EQ(server.connections(), 0u);
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"tasks.csv"});
}

TEST(DryRunCliTest, SecretsAreMaskedUnlessUnmasked) {
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(1));
  const std::vector<std::string> flags = {"--url", "http://user:pa55word@127.0.0.1:9/{task_id}",
                                          "-H", "Authorization: Bearer s3cr3t-token", tasks};
  std::vector<std::string> masked = flags;
  masked.insert(masked.begin(), "--dry-run");
  const ProcessResult result = RunOrchestrator(masked);
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(result.out.find("s3cr3t"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("pa55word"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("-H 'Authorization: ***'"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("# header values and URL passwords show as ***"), std::string::npos);
  std::vector<std::string> unmasked = flags;
  unmasked.insert(unmasked.begin(), "--dry-run=unmasked");
  const ProcessResult shown = RunOrchestrator(unmasked);
  EXPECT_NE(shown.out.find("-H 'Authorization: Bearer s3cr3t-token'"), std::string::npos)
      << shown.out;
  EXPECT_NE(shown.out.find("pa55word"), std::string::npos) << shown.out;
  const ProcessResult bad = RunOrchestrator({"--dry-run=all", tasks});
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_NE(bad.err.find("orchestrator: --dry-run=\"all\": expected --dry-run or "
                         "--dry-run=unmasked"),
            std::string::npos)
      << bad.err;
}

// An output the run could not create is exit 2 too, the file named, nothing created.
TEST(DryRunCliTest, AnOutputTheRunCouldNotCreateIsExit2) {
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(1));
  for (const char* flag : {"--output", "--events", "--metrics", "--report-file"}) {
    SCOPED_TRACE(flag);
    const std::string missing = dir.path() + "/no/such/folder/file";
    const ProcessResult result =
        RunOrchestrator({"-n", "--url", "http://127.0.0.1:9/", flag, missing, tasks});
    EXPECT_EQ(result.exit_status, 2) << result.err;
    EXPECT_EQ(result.out, "");
    EXPECT_NE(result.err.find("orchestrator: " + missing + ": cannot write "), std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find(": No such file or directory\n"), std::string::npos) << result.err;
    const ProcessResult folder =
        RunOrchestrator({"-n", "--url", "http://127.0.0.1:9/", flag, dir.path(), tasks});
    EXPECT_EQ(folder.exit_status, 2) << folder.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/no"));
}

TEST(DryRunCliTest, ABadInputIsExit2WithTheUsualMessageAndNothingPrinted) {
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", "task_id,task_type,depends_on\n1,a,2\n2,a,1\n");
  const ProcessResult result = RunOrchestrator({"-n", "--url", "http://127.0.0.1:9/", tasks});
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_NE(result.err.find("orchestrator: " + tasks +
                            ": dependency cycle: 1 (line 2) -> 2 "
                            "(line 3) -> 1"),
            std::string::npos)
      << result.err;
}

// Dependencies, --resume and --shard: the carried task listed as carried, a parent before its
// child, a value only the run has as a placeholder, a carried parent's value as it is; a shard
// prints its share alone.
TEST(DryRunCliTest, CarriedTasksOrderAndValuesOnlyTheRunHas) {
  TestServer server;
  TempDir dir;
  const std::string kinds = dir.Write(
      "kinds.toml", "[types.item]\nsteps = [ { name = \"lookup\", fetch = { url = \"" +
                        server.Url("/item/{task_id}") +
                        "\", capture = { sku = \"json:/sku\" } } }, { name = \"use\", fetch = "
                        "{ url = \"" +
                        server.Url("/task/{task_id}?sku={sku}") +
                        "\" } } ]\n[types.order]\nsteps = [ { name = \"order\", fetch = { url = "
                        "\"" +
                        server.Url("/task/{task_id}?sku={dep.sku}") + "\" } } ]\n");
  const std::string tasks =
      dir.Write("tasks.csv",
                "task_id,task_type,depends_on\n3,order,1\n1,item,\n2,item,\n4,order,2\n5,order,\n");
  const std::string earlier =
      dir.Write("earlier.csv", "task_id,final_status,error_info,sku\n2,Completed,,sku-2\n");
  const ProcessResult result =
      RunOrchestrator({"-n", "--blueprints", kinds, "--resume", earlier, tasks});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  const std::string& out = result.out;
  EXPECT_NE(out.find("# task 2: carried over from " + earlier + "\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("# task 2 (item)"), std::string::npos) << out;
  const std::size_t parent = out.find("# task 1 (item), step 1/2 lookup: fetch\n");
  const std::size_t child = out.find("# task 3 (order), step 1/1 order: fetch\n");
  EXPECT_TRUE(parent != std::string::npos && child != std::string::npos && parent < child) << out;
  EXPECT_NE(out.find("# {sku} is a value only the run has: shown as __sku__\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("--url '" + server.Url("/task/1?sku=__sku__") + "'"), std::string::npos)
      << out;
  EXPECT_NE(out.find("# {dep.sku} is a value only the run has: shown as __dep.sku__\n"),
            std::string::npos)
      << out;
  // 4's one parent was carried over: its value is known, as the run would have it. 5 has no
  // parent: the run would fail it before it starts.
  EXPECT_NE(out.find("--url '" + server.Url("/task/4?sku=sku-2") + "'"), std::string::npos) << out;
  EXPECT_NE(out.find("# task 5 (order): the run would fail it before it starts: "),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("no dependency captured sku\n"), std::string::npos) << out;
  EXPECT_NE(result.err.find(", 1 task would fail before sending a request"), std::string::npos)
      << result.err;
  EXPECT_EQ(server.requests(), 0u);

  // Shard 0/2 and 1/2 together print each task once, as the shards would run them.
  const ProcessResult one = RunOrchestrator(
      {"-n", "--url", server.Url("/ok"), "--shard", "0/2", dir.Write("many.csv", TasksCsv(20))});
  const ProcessResult two = RunOrchestrator(
      {"-n", "--url", server.Url("/ok"), "--shard", "1/2", dir.path() + "/many.csv"});
  EXPECT_EQ(one.exit_status, 0) << one.err;
  EXPECT_EQ(two.exit_status, 0) << two.err;
  const std::size_t shown = CommandLines(one.out).size() + CommandLines(two.out).size();
  EXPECT_EQ(shown, 20u);
  EXPECT_GT(CommandLines(one.out).size(), 0u);
  EXPECT_GT(CommandLines(two.out).size(), 0u);
}

// Like a run's results: a reader that left is exit 141, a stdout that cannot be written 3.
TEST(DryRunCliTest, AReaderThatLeftIs141AndAFullDisk3) {
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(1000));
  ProcessOptions gone;
  gone.stdout_reader_gone = true;
  const ProcessResult left =
      RunOrchestrator({"-n", "--url", "http://127.0.0.1:9/{task_id}", tasks}, gone);
  EXPECT_EQ(left.exit_status, 141) << left.err;
  ProcessOptions full;
  full.stdout_path = "/dev/full";
  const ProcessResult no_space =
      RunOrchestrator({"-n", "--url", "http://127.0.0.1:9/{task_id}", tasks}, full);
  EXPECT_EQ(no_space.exit_status, 3) << no_space.err;
  EXPECT_NE(no_space.err.find("orchestrator: error: cannot write the dry run to stdout: No space "
                              "left on device\n"),
            std::string::npos)
      << no_space.err;
}

// A million tasks stream out: memory follows the tasks (16 bytes each), not the text printed.
TEST(DryRunCliTest, AMillionTasksStreamInBoundedMemory) {
  // As the other memory measures: a sanitizer's shadow memory is not the program's (590 MB
  // under ASan, and 86 s).
  if (kSanitized) GTEST_SKIP() << "peak memory under a sanitizer is not the program's";
  TempDir dir;
  std::string csv = "task_id,task_type\n";
  csv.reserve(20'000'000);
  for (int i = 1; i <= 1'000'000; ++i) csv += std::to_string(i) + ",t\n";
  const std::string tasks = dir.Write("tasks.csv", csv);
  csv = {};
  ProcessOptions options;
  options.stdout_path = "/dev/null";
  options.measure_peak_rss = true;
  options.timeout = std::chrono::milliseconds(100'000);
  const ProcessResult result =
      RunOrchestrator({"-n", "-q", "--url", "http://127.0.0.1:9/{task_id}", tasks}, options);
  EXPECT_EQ(result.exit_status, 0) << result.err;
  // The output is about 300 MB; the tasks 16 MB, the reader's scratch a few times that.
  EXPECT_LT(result.max_rss_kib, 150u * 1024) << result.max_rss_kib;
}

}  // namespace
}  // namespace orchestrator::testing

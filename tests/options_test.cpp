#include "orchestrator/options.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "orchestrator/blueprint.h"

namespace orchestrator {
namespace {

CommandLine Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "orchestrator");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

// With this environment in place of the process's.
CommandLine ParseIn(std::vector<std::string> args, std::map<std::string, std::string> env) {
  args.insert(args.begin(), "orchestrator");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data(),
                          [&env](const char* name) -> const char* {
                            const auto found = env.find(name);
                            return found == env.end() ? nullptr : found->second.c_str();
                          });
}

class OptionsTest : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv("ORCHESTRATOR_URL"); }
  void TearDown() override { ::unsetenv("ORCHESTRATOR_URL"); }
};

TEST_F(OptionsTest, DefaultsMatchTheContract) {
  const CommandLine command_line = Parse({});
  ASSERT_EQ(command_line.action, CommandLine::Action::kRun) << command_line.text;
  const Options& options = command_line.options;
  EXPECT_EQ(options.tasks_path, "-");
  EXPECT_EQ(options.url, "https://httpbin.org/get");
  EXPECT_EQ(options.delay, Duration(5000));
  EXPECT_EQ(options.timeout, Duration(10'000));
  EXPECT_EQ(options.connect_timeout, Duration(10'000));
  EXPECT_EQ(options.retries, 2);
  EXPECT_EQ(options.max_connections, 64u);
  EXPECT_FALSE(options.quiet);
}

TEST_F(OptionsTest, ReadsEveryOption) {
  // Packed: clang-format would give each of these words a line of its own.
  // clang-format off
  const CommandLine command_line = Parse({
      "--url", "http://127.0.0.1:9/x", "--delay", "250ms", "--timeout", "1.5s",
      "--connect-timeout", "1", "--retries", "5", "--retry-delay", "0", "--max-connections", "8",
      "--threads", "3", "--max-body", "512k", "--output", "out.csv", "--resume", "earlier.csv",
      "-q", "tasks.csv"});
  // clang-format on
  ASSERT_EQ(command_line.action, CommandLine::Action::kRun) << command_line.text;
  const Options& options = command_line.options;
  EXPECT_EQ(options.tasks_path, "tasks.csv");
  EXPECT_EQ(options.url, "http://127.0.0.1:9/x");
  EXPECT_EQ(options.delay, Duration(250));
  EXPECT_EQ(options.timeout, Duration(1500));
  EXPECT_EQ(options.connect_timeout, Duration(1000));
  EXPECT_EQ(options.retries, 5);
  EXPECT_EQ(options.retry_delay, Duration(0));
  EXPECT_EQ(options.max_connections, 8u);
  EXPECT_EQ(options.threads, 3u);
  EXPECT_EQ(options.max_body, std::optional<std::uint64_t>(512 * 1024));
  EXPECT_EQ(options.output_path, "out.csv");
  EXPECT_EQ(options.resume_path, "earlier.csv");
  EXPECT_TRUE(options.quiet);
  EXPECT_EQ(Parse({"-o", "short.csv"}).options.output_path, "short.csv");
}

TEST_F(OptionsTest, ConnectTimeoutDefaultsToTimeout) {
  EXPECT_EQ(Parse({"--timeout", "3s"}).options.connect_timeout, Duration(3000));
}

TEST_F(OptionsTest, UrlComesFromTheEnvironmentUnlessGiven) {
  ::setenv("ORCHESTRATOR_URL", "http://127.0.0.1:1/env", 1);
  EXPECT_EQ(Parse({}).options.url, "http://127.0.0.1:1/env");
  EXPECT_EQ(Parse({"--url", "http://127.0.0.1:1/flag"}).options.url, "http://127.0.0.1:1/flag");
  ::setenv("ORCHESTRATOR_URL", "gopher://x", 1);
  EXPECT_EQ(Parse({}).action, CommandLine::Action::kUsageError);
}

TEST_F(OptionsTest, UsageErrorsSayWhatIsWrong) {
  const auto error = [](std::vector<std::string> args) {
    const CommandLine command_line = Parse(std::move(args));
    EXPECT_EQ(command_line.action, CommandLine::Action::kUsageError);
    return command_line.text;
  };
  EXPECT_EQ(error({"--delay", "soon"}),
            "--delay: invalid duration \"soon\" (examples: 250ms, 1.5s, 5s, 1m)");
  EXPECT_EQ(error({"--delay=-1s"}),
            "--delay: invalid duration \"-1s\" (examples: 250ms, 1.5s, 5s, 1m)");
  EXPECT_EQ(error({"--timeout", "0"}), "--timeout: must be more than 0");
  EXPECT_EQ(error({"--url", "ftp://x/y"}),
            "--url: only http and https URLs are supported: ftp://x/y");
  EXPECT_NE(error({"--max-connections", "0"}).find("--max-connections"), std::string::npos);
  EXPECT_NE(error({"--retries", "-1"}), "");
  EXPECT_NE(error({"--threads", "0"}).find("--threads"), std::string::npos);
  EXPECT_NE(error({"--no-such-flag"}).find("no-such-flag"), std::string::npos);
  EXPECT_NE(error({"a.csv", "b.csv"}), "");
}

TEST_F(OptionsTest, ARetryDelayIsAtMostTenMinutes) {
  // The same bound as a server's Retry-After: a longer wait is not a backoff.
  EXPECT_EQ(Parse({"--retry-delay", "10m"}).action, CommandLine::Action::kRun);
  EXPECT_EQ(Parse({"--retry-delay", "10m"}).options.retry_delay, std::chrono::minutes(10));
  EXPECT_EQ(Parse({"--retry-delay", "1m"}).options.retry_delay, std::chrono::minutes(1));
  for (const std::string too_long : {"600.001s", "11m", "5000h"}) {
    const CommandLine command_line = Parse({"--retry-delay", too_long});
    EXPECT_EQ(command_line.action, CommandLine::Action::kUsageError) << too_long;
    EXPECT_EQ(command_line.text, "--retry-delay: " + too_long +
                                     " is longer than 600s, the longest wait before a retry");
  }
}

TEST_F(OptionsTest, HelpAndVersionArePrinted) {
  const CommandLine help = Parse({"--help"});
  EXPECT_EQ(help.action, CommandLine::Action::kPrint);
  EXPECT_NE(help.text.find("--max-connections"), std::string::npos);
  EXPECT_NE(help.text.find("Exit status"), std::string::npos);
  const CommandLine version = Parse({"--version"});
  EXPECT_EQ(version.action, CommandLine::Action::kPrint);
  EXPECT_EQ(version.text.rfind("orchestrator ", 0), 0u);
  // As curl -V: ours and the commit, then libcurl with its TLS library, then the rest.
  std::vector<std::string> lines;
  std::istringstream stream(version.text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u) << version.text;
  EXPECT_TRUE(
      std::regex_match(lines[0], std::regex(R"(orchestrator \d+\.\d+\.\d+ \(git (\w+|unknown)\))")))
      << lines[0];
  EXPECT_TRUE(std::regex_match(
      lines[1], std::regex(R"(libcurl \d+\.\d+\.\d+ \(OpenSSL/[^,]+, nghttp2/.*\))")))
      << lines[1];
  EXPECT_TRUE(lines[2].starts_with("Boost 1.81.0, toml++ 3.")) << lines[2];
  EXPECT_NE(lines[2].find("OpenSSL 3."), std::string::npos) << lines[2];
  EXPECT_EQ(Parse({"-V"}).text, version.text) << "-V is --version";
}

// The text a template expands to for task 7 of type "t".
std::string Expand(const Template& text) {
  std::string out, error;
  const bool ok = text.ExpandTo(
      out,
      [](std::size_t slot) {
        return slot == kTaskIdSlot ? TemplateValue{ColumnType::kU64, "7"}
                                   : TemplateValue{ColumnType::kString, "t"};
      },
      error);
  EXPECT_TRUE(ok) << error;
  return out;
}

std::string UsageError(std::vector<std::string> args) {
  const CommandLine command_line = Parse(args);
  EXPECT_EQ(command_line.action, CommandLine::Action::kUsageError)
      << (args.empty() ? "" : args.front());
  return command_line.text;
}

TEST_F(OptionsTest, ReadsTheRequestInCurlsWords) {
  const CommandLine command_line =
      Parse({"-X", "PUT", "-H", "X-Task: {task_id}", "--header", "Accept:  application/json ",
             "--header=X-Empty:", "-H", "X-Id:{task_type}-{{x}}", "-d", "{{\"id\": {task_id}}}",
             "tasks.csv"});
  ASSERT_EQ(command_line.action, CommandLine::Action::kRun) << command_line.text;
  const RequestFlags& request = command_line.options.request;
  EXPECT_EQ(request.method, HttpMethod::kPut);
  ASSERT_EQ(request.headers.size(), 4u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"X-Task", "7"}, {"Accept", "application/json"}, {"X-Empty", ""}, {"X-Id", "t-{x}"}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(request.headers[i].name, expected[i].first);
    EXPECT_EQ(request.headers[i].value.context(), TemplateContext::kHeader);
    EXPECT_EQ(Expand(request.headers[i].value), expected[i].second);
  }
  ASSERT_TRUE(request.body.has_value());
  EXPECT_EQ(request.body->context(), TemplateContext::kBody);
  EXPECT_EQ(Expand(*request.body), "{\"id\": 7}");
  EXPECT_EQ(command_line.options.tasks_path, "tasks.csv") << "-H takes one value";

  const RequestFlags plain = Parse({}).options.request;
  EXPECT_FALSE(plain.method.has_value());
  EXPECT_TRUE(plain.headers.empty());
  EXPECT_FALSE(plain.body.has_value());
  EXPECT_EQ(plain.body_file, "");
  EXPECT_EQ(Parse({"--data-file", "body.json"}).options.request.body_file, "body.json");
  EXPECT_EQ(Parse({"--method", "DELETE"}).options.request.method, HttpMethod::kDelete);
  EXPECT_EQ(Expand(*Parse({"--data", ""}).options.request.body), "") << "an empty body is one";
}

TEST_F(OptionsTest, ABodyWithoutAMethodIsAPost) {
  EXPECT_EQ(FetchOf("http://h/", Parse({}).options.request).method, HttpMethod::kGet);
  EXPECT_EQ(FetchOf("http://h/", Parse({"-d", "x"}).options.request).method, HttpMethod::kPost);
  EXPECT_EQ(FetchOf("http://h/", Parse({"-d", "x", "-X", "PUT"}).options.request).method,
            HttpMethod::kPut);
  EXPECT_EQ(FetchOf("http://h/", Parse({"-X", "GET", "-d", "x"}).options.request).method,
            HttpMethod::kGet)
      << "-X wins, as in curl";
}

TEST_F(OptionsTest, EngineFlags) {
  const Options defaults = Parse({}).options;
  EXPECT_EQ(defaults.ca_file, "");
  EXPECT_FALSE(defaults.insecure);
  EXPECT_EQ(defaults.http_version, HttpVersion::kDefault);
  EXPECT_EQ(Parse({"--http1.1"}).options.http_version, HttpVersion::kHttp11);
  EXPECT_EQ(Parse({"--http2"}).options.http_version, HttpVersion::kHttp2);
  EXPECT_TRUE(Parse({"-k"}).options.insecure);
  EXPECT_TRUE(Parse({"--insecure"}).options.insecure);
  const CommandLine cacert = Parse({"--cacert", ORCHESTRATOR_TEST_DATA_DIR "/test-cert.pem"});
  ASSERT_EQ(cacert.action, CommandLine::Action::kRun) << cacert.text;
  EXPECT_EQ(cacert.options.ca_file, ORCHESTRATOR_TEST_DATA_DIR "/test-cert.pem");
  // Engine-wide: with a blueprint file too.
  const CommandLine with_file = Parse({"--blueprints", "kinds.toml", "-k", "--http2", "--cacert",
                                       ORCHESTRATOR_TEST_DATA_DIR "/test-cert.pem"});
  ASSERT_EQ(with_file.action, CommandLine::Action::kRun) << with_file.text;
  EXPECT_TRUE(with_file.options.insecure);
  EXPECT_EQ(with_file.options.http_version, HttpVersion::kHttp2);
}

TEST_F(OptionsTest, RequestUsageErrorsSayWhatIsWrong) {
  EXPECT_EQ(UsageError({"-X", "FETCH"}),
            "-X: unknown method \"FETCH\" (known: GET, HEAD, POST, PUT, PATCH, DELETE)");
  EXPECT_EQ(UsageError({"-X", "gett"}),
            "-X: unknown method \"gett\" (known: GET, HEAD, POST, PUT, PATCH, DELETE)");
  EXPECT_EQ(UsageError({"-H", "A: 1", "-H", "NoColonHere"}),
            "-H: header 2 has no colon (write -H 'Name: value')");
  EXPECT_EQ(UsageError({"-H", "Bad Name: 1"}),
            "-H: header 1 has an invalid name (letters, digits and !#$%&'*+-.^_`|~)");
  EXPECT_EQ(UsageError({"-H", ": 1"}),
            "-H: header 1 has an invalid name (letters, digits and !#$%&'*+-.^_`|~)");
  EXPECT_EQ(UsageError({"-H", "X-Id: {taskid}"}),
            "-H X-Id: unknown name \"taskid\" in {taskid} (known: task_id, task_type)");
  // With "{{" somewhere a template has escapes, and a brace that is no placeholder's an error.
  EXPECT_EQ(UsageError({"-H", "X-Id: {{{task_id"}),
            "-H X-Id: \"{\" not closed (write {{ for a literal brace)");
  EXPECT_EQ(UsageError({"-d", "{{\"id\": 1}"}),
            "-d: \"}\" without a matching \"{\" (write }} for a literal brace)");
  EXPECT_EQ(UsageError({"-d", "x", "--data-file", "b.json"}),
            "-d and --data-file cannot be used together: the fetch has one body");
  EXPECT_EQ(UsageError({"--data-file", ""}), "--data-file: the file name is empty");
  EXPECT_EQ(UsageError({"-X", "HEAD", "-d", "x"}),
            "-X HEAD cannot send a body (-d or --data-file)");
  EXPECT_EQ(UsageError({"-X", "HEAD", "--data-file", "b.json"}),
            "-X HEAD cannot send a body (-d or --data-file)");
  EXPECT_EQ(UsageError({"--http1.1", "--http2"}), "--http1.1 and --http2 cannot be used together");
  EXPECT_EQ(UsageError({"--cacert", "/no/such/ca.pem"}),
            "--cacert: cannot read \"/no/such/ca.pem\": No such file or directory");
  EXPECT_EQ(UsageError({"--cacert", "/"}), "--cacert: cannot read \"/\": Is a directory");
  EXPECT_EQ(UsageError({"-H"}), "--header needs a value ('NAME: VALUE')");
  EXPECT_EQ(UsageError({"-d"}), "--data needs a value (TEXT)");
  EXPECT_EQ(UsageError({"-d", "a", "-d", "b"}), "--data given twice");
  EXPECT_EQ(UsageError({"-X", "GET", "-X", "PUT"}), "--method given twice");
}

// curl's habit: -X get is GET, sent upper case.
TEST_F(OptionsTest, MethodsAreTakenInAnyCase) {
  const std::pair<const char*, HttpMethod> cases[] = {
      {"get", HttpMethod::kGet},       {"Post", HttpMethod::kPost},   {"put", HttpMethod::kPut},
      {"dElEtE", HttpMethod::kDelete}, {"patch", HttpMethod::kPatch}, {"head", HttpMethod::kHead},
  };
  for (const auto& [name, method] : cases) {
    const CommandLine command_line = Parse({"-X", name});
    ASSERT_EQ(command_line.action, CommandLine::Action::kRun) << name << ": " << command_line.text;
    EXPECT_EQ(command_line.options.request.method, method) << name;
  }
  EXPECT_EQ(Parse({"-X", "options"}).action, CommandLine::Action::kUsageError);
}

// curl's habit: a URL with no scheme:// is http.
TEST_F(OptionsTest, AUrlWithoutASchemeIsHttp) {
  const std::pair<const char*, const char*> cases[] = {
      {"127.0.0.1:8080/get", "http://127.0.0.1:8080/get"},
      {"example.com", "http://example.com"},
      {"localhost/task/{task_id}", "http://localhost/task/{task_id}"},
      {"http://example.com/", "http://example.com/"},
      {"HTTPS://example.com/", "HTTPS://example.com/"},
  };
  for (const auto& [given, url] : cases) {
    const CommandLine command_line = Parse({"--url", given});
    ASSERT_EQ(command_line.action, CommandLine::Action::kRun) << given << ": " << command_line.text;
    EXPECT_EQ(command_line.options.url, url);
  }
  EXPECT_EQ(UsageError({"--url", "ftp://example.com/"}),
            "--url: only http and https URLs are supported: ftp://example.com/");
  // A value never decides the scheme: a template that starts with one is refused, as before.
  EXPECT_EQ(Parse({"--url", "{task_id}/x"}).action, CommandLine::Action::kUsageError);
}

// The parser's messages say what is wrong in our words, and name the flag meant.
TEST_F(OptionsTest, ParserMessagesAreInOurWords) {
  EXPECT_EQ(UsageError({"--dealy", "0", "tasks.csv"}),
            "unknown option --dealy (did you mean --delay?)");
  EXPECT_EQ(UsageError({"--max-conn", "3"}),
            "unknown option --max-conn (did you mean --max-connections?)");
  EXPECT_EQ(UsageError({"-url", "http://h/"}), "unknown option -url (did you mean --url?)");
  EXPECT_EQ(UsageError({"--frobnicate"}), "unknown option --frobnicate");
  EXPECT_EQ(UsageError({"--url", "http://h/", "--url", "http://g/"}), "--url given twice");
  EXPECT_EQ(UsageError({"--delay"}), "--delay needs a value (DURATION)");
  EXPECT_EQ(UsageError({"--retries", "abc"}),
            "--retries: must be a whole number from 0 to 100, not \"abc\"");
  EXPECT_EQ(UsageError({"--retries", "101"}),
            "--retries: must be a whole number from 0 to 100, not \"101\"");
  EXPECT_EQ(UsageError({"a.csv", "b.csv"}),
            "unexpected argument \"b.csv\" (takes one TASKS_CSV at most)");
}

// --help and --version wherever they stand, before any mistake in the rest.
TEST_F(OptionsTest, HelpAndVersionInAnyPosition) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--url", "x", "--help"},
                                               {"--dealy", "1", "-h"},
                                               {"a.csv", "b.csv", "--help"}}) {
    const CommandLine command_line = Parse(args);
    EXPECT_EQ(command_line.action, CommandLine::Action::kPrint) << args.back();
    EXPECT_NE(command_line.text.find("Usage: orchestrator"), std::string::npos);
  }
  const CommandLine version = Parse({"--retries", "abc", "--version"});
  EXPECT_EQ(version.action, CommandLine::Action::kPrint);
  EXPECT_TRUE(version.text.starts_with("orchestrator ")) << version.text;
}

TEST_F(OptionsTest, RequestFlagsBelongToTheBuiltInBlueprint) {
  const std::string why =
      " cannot be used with --blueprints: the file says what each task_type does (a "
      "[types.\"*\"] entry for every other type)";
  EXPECT_EQ(UsageError({"--blueprints", "k.toml", "-X", "POST"}), "-X/--method" + why);
  EXPECT_EQ(UsageError({"--blueprints", "k.toml", "--method=PUT"}), "-X/--method" + why);
  EXPECT_EQ(UsageError({"--blueprints", "k.toml", "-H", "A: b"}), "-H/--header" + why);
  EXPECT_EQ(UsageError({"--blueprints", "k.toml", "-d", "x"}), "-d/--data" + why);
  EXPECT_EQ(UsageError({"--blueprints", "k.toml", "--data-file", "b"}), "--data-file" + why);
  EXPECT_EQ(UsageError({"--blueprints", "k.toml", "--url", "http://h/"}), "--url" + why);
}

// A usage error quotes what it quotes, but never a -H value or a URL's password.
TEST_F(OptionsTest, UsageErrorsNeverShowASecret) {
  const std::string token = "s3cr3t-t0ken";
  const std::vector<std::vector<std::string>> cases = {
      {"-H", "Authorization Bearer " + token},                            // no colon
      {"-H", "Authorization: Bearer " + token, "a.csv", token + ".csv"},  // CLI11 quotes it
      {"--header=Authorization: Bearer " + token, "a.csv", "b" + token},
      {"-HAuthorization: Bearer " + token, "a.csv", "b" + token},
      {"-kH", "Authorization: Bearer " + token, "a.csv", "b" + token},
      {"-qkHAuthorization: Bearer " + token, "a.csv", "b" + token},
      {"-H", "X-Key: " + token + "{oops}"},
      {"--url", "ftp://user:" + token + "@example.com/"},
      {"--url", "http://user:" + token + "@/nohost"},
      {"--url", "{task_id}user:" + token + "@example.com"},
      {"a.csv", "http://user:" + token + "@example.com/"},  // an extra argument, quoted by CLI11
      {"--url", "http://user:" + token + "@example.com/", "--blueprints", "k.toml"},
  };
  for (const std::vector<std::string>& args : cases) {
    const std::string text = UsageError(args);
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(text.find(token), std::string::npos) << text;
    EXPECT_EQ(text.find("r3t-t0"), std::string::npos) << "no piece of it either: " << text;
  }
  EXPECT_EQ(UsageError({"--url", "ftp://user:" + token + "@example.com/"}),
            "--url: only http and https URLs are supported: ftp://user:***@example.com/");
  EXPECT_EQ(UsageError({"a.csv", "http://user:" + token + "@example.com/x"}),
            "unexpected argument \"http://user:***@example.com/x\" (takes one TASKS_CSV at most)");
}

TEST_F(OptionsTest, HelpListsTheRequestFlagsAndNoSecret) {
  ::setenv("ORCHESTRATOR_URL", "http://user:s3cr3t-pw@example.com/", 1);
  const std::string help = Parse({"--help"}).text;
  for (const char* flag : {"-X,", "--method", "-H,", "--header", "-d,", "--data", "--data-file",
                           "--cacert", "-k,", "--insecure", "--http1.1", "--http2"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(help.find("s3cr3t"), std::string::npos) << help;
  const std::string with_flags =
      Parse({"--url", "http://u:s3cr3t-pw@h/", "-H", "Authorization: Bearer s3cr3t-pw", "--help"})
          .text;
  EXPECT_EQ(with_flags.find("s3cr3t"), std::string::npos) << with_flags;
}

TEST_F(OptionsTest, ShardFromTheFlagOrTheEnvironmentAndPathsNameIt) {
  const std::map<std::string, std::string> slurm = {
      {"SLURM_ARRAY_TASK_ID", "6"},    {"SLURM_ARRAY_TASK_MIN", "4"},
      {"SLURM_ARRAY_TASK_MAX", "10"},  {"SLURM_ARRAY_TASK_STEP", "2"},
      {"SLURM_ARRAY_TASK_COUNT", "4"},
  };
  const std::vector<std::string> paths = {
      "--output",     "r-{shard}.csv", "--resume",       "r-{shard}.csv", "--metrics",
      "{shard}.prom", "--events",      "e{shard}.jsonl", "--report-file", "report-{shard}.json"};
  CommandLine line = ParseIn(paths, slurm);
  ASSERT_EQ(line.action, CommandLine::Action::kRun) << line.text;
  EXPECT_EQ(line.options.shard, (Shard{1, 4}));
  EXPECT_EQ(line.options.output_path, "r-1.csv");
  EXPECT_EQ(line.options.resume_path, "r-1.csv");
  EXPECT_EQ(line.options.metrics_path, "1.prom");
  EXPECT_EQ(line.options.events_path, "e1.jsonl");
  EXPECT_EQ(line.options.report_path, "report-1.json");

  // The flag wins over the environment, whatever the environment says.
  std::vector<std::string> with_flag = paths;
  with_flag.insert(with_flag.end(), {"--shard", "3/8"});
  line = ParseIn(with_flag, slurm);
  ASSERT_EQ(line.action, CommandLine::Action::kRun) << line.text;
  EXPECT_EQ(line.options.shard, (Shard{3, 8}));
  EXPECT_EQ(line.options.output_path, "r-3.csv");
  line = ParseIn({"--shard", "0/1"}, {{"SLURM_ARRAY_TASK_ID", "4"}});
  ASSERT_EQ(line.action, CommandLine::Action::kRun) << line.text;
  EXPECT_EQ(line.options.shard, (Shard{0, 1}));

  line = ParseIn({"--shard-count", "5"}, {{"JOB_COMPLETION_INDEX", "4"}});
  ASSERT_EQ(line.action, CommandLine::Action::kRun) << line.text;
  EXPECT_EQ(line.options.shard, (Shard{4, 5}));
  line = ParseIn({}, {});
  ASSERT_EQ(line.action, CommandLine::Action::kRun) << line.text;
  EXPECT_EQ(line.options.shard, std::nullopt);
}

TEST_F(OptionsTest, AShardThatCannotBeIsAUsageError) {
  const auto error = [](std::vector<std::string> args,
                        std::map<std::string, std::string> env = {}) {
    const CommandLine line = ParseIn(std::move(args), std::move(env));
    EXPECT_EQ(line.action, CommandLine::Action::kUsageError);
    return line.text;
  };
  EXPECT_EQ(error({"--shard", "4/4"}),
            "--shard 4/4: shard 4 is out of range for 4 shards (0 to 3)");
  EXPECT_EQ(error({"--shard", "1/4", "--shard-count", "3"}),
            "--shard 1/4 and --shard-count 3 disagree");
  EXPECT_EQ(error({"--output", "r-{shard}.csv"}),
            "--output \"r-{shard}.csv\": {shard} names a shard, but this run is not split: "
            "pass --shard K/N");
  EXPECT_NE(error({}, {{"SLURM_ARRAY_TASK_ID", "4"},
                       {"SLURM_ARRAY_TASK_MIN", "1"},
                       {"SLURM_ARRAY_TASK_MAX", "9"},
                       {"SLURM_ARRAY_TASK_STEP", "1"},
                       {"SLURM_ARRAY_TASK_COUNT", "3"}})
                .find("not one arithmetic range"),
            std::string::npos);
  EXPECT_NE(error({"--shard-count", "0"}).find("--shard-count"), std::string::npos);
}

}  // namespace
}  // namespace orchestrator

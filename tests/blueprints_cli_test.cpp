// End to end: task kinds from a blueprint file (--blueprints), and a templated --url.
#include <gtest/gtest.h>

#include <string>

#include "cli_support.h"
#include "subprocess.h"
#include "test_server.h"

namespace orchestrator::testing {
namespace {

// Three kinds: one fetches a status its row names, one waits as long as its row says and
// emits its own line, and "*" for every other type.
std::string KindsToml(const TestServer& server) {
  return "[defaults]\nretries = 0\n\n"
         "[types.fetcher]\ncolumns = { code = \"u32\" }\n"
         "steps = [ { name = \"check\", fetch = \"" +
         server.Url("/status/{code}") +
         "\" } ]\n\n"
         "[types.waiter]\ncolumns = { wait = \"duration\", who = \"string\" }\n"
         "steps = [ { delay = \"{wait}\" }, { name = \"say\", emit = \"waited {wait} for "
         "{task_id} ({who})\" } ]\n\n"
         "[types.\"*\"]\nsteps = [ { fetch = \"" +
         server.Url("/task/{task_id}") + "\" } ]\n";
}

TEST(BlueprintCliTest, ThreeKindsOverACsvWithTypedColumns) {
  TestServer server;
  TempDir dir;
  const std::string kinds = dir.Write("kinds.toml", KindsToml(server));
  const std::string tasks = dir.Write("tasks.csv",
                                      "task_id,task_type,code,wait,who\n"
                                      "1,fetcher,200,,\n"
                                      "2,fetcher,404,,\n"
                                      "3,waiter,,300ms,\"a, b\"\n"
                                      "4,other,,,\n");
  const ProcessResult result = RunOrchestrator({"--blueprints", kinds, tasks});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  const auto rows = Rows(result.out);
  ASSERT_EQ(rows.size(), 4u) << result.out;
  EXPECT_EQ(rows.at("1"), "Completed,");
  EXPECT_EQ(rows.at("2"), "Failed,check: HTTP 404 Not Found");
  EXPECT_EQ(rows.at("3"), "Completed,");
  EXPECT_EQ(rows.at("4"), "Completed,");
  EXPECT_NE(result.err.find("orchestrator: waited 300ms for 3 (a, b)\n"), std::string::npos)
      << result.err;
  EXPECT_GE(result.seconds, 0.3);
  EXPECT_EQ(server.requests(), 3u);
}

TEST(BlueprintCliTest, InputAndFileErrorsRunNothing) {
  TestServer server;
  TempDir dir;
  const std::string kinds = dir.Write("kinds.toml", KindsToml(server));
  struct Case {
    std::string csv;
    std::string error;
  };
  const Case cases[] = {
      {"task_id,task_type,code\n1,fetcher,200\n2,fetcher,12x\n",
       "tasks.csv:3: column code: \"12x\" is not a u32"},
      {"task_id,task_type\n1,fetcher\n",
       "tasks.csv:2: task_type \"fetcher\" needs column \"code\" (" + kinds +
           "), which the header does not have"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.csv);
    const ProcessResult result =
        RunOrchestrator({"--blueprints", kinds, dir.Write("tasks.csv", c.csv)});
    EXPECT_EQ(result.exit_status, 2);
    EXPECT_EQ(result.out, "");
    EXPECT_NE(result.err.find("orchestrator: " + dir.path() + "/" + c.error), std::string::npos)
        << result.err;
  }
  // Without a "*" entry a type with no blueprint is an error; with one (above) it is not.
  const std::string no_star = dir.Write("no-star.toml",
                                        "[types.a]\nsteps = [ { emit = \"x\" } ]\n"
                                        "[types.b]\nsteps = [ { emit = \"y\" } ]\n");
  const ProcessResult unknown = RunOrchestrator(
      {"--blueprints", no_star, dir.Write("tasks.csv", "task_id,task_type\n1,a\n2,c\n")});
  EXPECT_EQ(unknown.exit_status, 2);
  EXPECT_EQ(unknown.out, "");
  EXPECT_NE(unknown.err.find("tasks.csv:3: task_type \"c\" has no blueprint in " + no_star +
                             " (known: a, b)"),
            std::string::npos)
      << unknown.err;
  const std::string bad_toml = dir.Write("bad.toml", "[types.a]\nsteps = [ { emit = \"x\" }\n");
  const ProcessResult file_error =
      RunOrchestrator({"--blueprints", bad_toml, dir.Write("tasks.csv", "task_id\n1\n")});
  EXPECT_EQ(file_error.exit_status, 2);
  EXPECT_EQ(file_error.out, "");
  EXPECT_TRUE(file_error.err.starts_with("orchestrator: " + bad_toml + ":2:")) << file_error.err;
  EXPECT_EQ(server.requests(), 0u) << "nothing ran";
}

TEST(BlueprintCliTest, UrlAndDelayAreTheFilesToSay) {
  TestServer server;
  TempDir dir;
  const std::string kinds = dir.Write("kinds.toml", KindsToml(server));
  const std::string tasks = dir.Write("tasks.csv", "task_id,task_type\n1,other\n");
  const ProcessResult url =
      RunOrchestrator({"--blueprints", kinds, "--url", server.Url("/ok"), tasks});
  EXPECT_EQ(url.exit_status, 2);
  EXPECT_NE(url.err.find("orchestrator: --url cannot be used with --blueprints"), std::string::npos)
      << url.err;
  const ProcessResult delay = RunOrchestrator({"--blueprints", kinds, "--delay=1s", tasks});
  EXPECT_EQ(delay.exit_status, 2);
  // ORCHESTRATOR_URL in the environment is no mistake: the file wins.
  const ProcessResult env = RunOrchestrator({"--blueprints", kinds, "-q", tasks},
                                            WithEnv({}, "ORCHESTRATOR_URL=http://127.0.0.1:1/"));
  EXPECT_EQ(env.exit_status, 0) << env.err;
}

TEST(BlueprintCliTest, ATemplatedUrlOnTheCommandLine) {
  TestServer server;
  const ProcessResult result =
      RunOrchestrator({"--url", server.Url("/task/{task_id}-{task_type}"), "--delay", "0", "-q"},
                      Stdin("task_id,task_type\n7,a b\n"));
  EXPECT_EQ(result.exit_status, 0) << result.err;
  const ProcessResult bad =
      RunOrchestrator({"--url", server.Url("/task/{id}"), "--delay", "0"}, Stdin("task_id\n7\n"));
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_NE(bad.err.find("orchestrator: --url: unknown name \"id\""), std::string::npos) << bad.err;
}

// A URL whose shape comes from the row is checked as it is sent: that task fails, no other.
TEST(BlueprintCliTest, AFilledInUrlThatIsNotHttpFailsItsTaskOnly) {
  TestServer server;
  TempDir dir;
  const std::string kinds =
      dir.Write("kinds.toml",
                "[types.a]\ncolumns = { base = \"string\" }\n"
                "steps = [ { name = \"get\", fetch = \"{base:raw}/ok\" } ]\n");
  const ProcessResult result =
      RunOrchestrator({"--blueprints", kinds, "-q",
                       dir.Write("tasks.csv", "task_id,task_type,base\n1,a," + server.Url("") +
                                                  "\n2,a,ftp://127.0.0.1:1\n")});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  const auto rows = Rows(result.out);
  EXPECT_EQ(rows.at("1"), "Completed,");
  EXPECT_TRUE(rows.at("2").starts_with("Failed,get: URL only http and https URLs are supported"))
      << rows.at("2");
  EXPECT_EQ(server.requests(), 1u);
}

// A step's request as sent: method, headers and body filled in from the row.
TEST(BlueprintCliTest, AStepSendsItsMethodHeadersAndBody) {
  TestServer server;
  TempDir dir;
  const std::string kinds = dir.Write(
      "kinds.toml",
      "[types.store]\ncolumns = { name = \"string\", size = \"u32\", ok = \"bool\" }\n"
      "[[types.store.steps]]\nname = \"put\"\n[types.store.steps.fetch]\nmethod = \"PUT\"\n"
      "url = \"" +
          server.Url("/task/{task_id}?n={name}") +
          "\"\nexpect = [200]\n"
          "headers = { Content-Type = \"application/json\", X-Name = \"{name}\" }\n"
          "body = '{{\"id\": {task_id:json}, \"name\": {name:json}, \"size\": {size:json}, "
          "\"ok\": {ok:json}}}'\n");
  const ProcessResult result = RunOrchestrator(
      {"--blueprints", kinds, "-q",
       dir.Write("tasks.csv",
                 "task_id,task_type,name,size,ok\n42,store,\"a \"\"b\"\"\",007,true\n")});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  const auto sent = server.LastRequest();
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->method, "PUT");
  EXPECT_EQ(sent->target, "/task/42?n=a%20%22b%22");
  EXPECT_EQ(sent->body, R"({"id": 42, "name": "a \"b\"", "size": 7, "ok": true})");
  bool saw_type = false, saw_name = false;
  for (const auto& [name, value] : sent->headers) {
    saw_type = saw_type || (name == "Content-Type" && value == "application/json");
    saw_name = saw_name || (name == "X-Name" && value == "a \"b\"");
  }
  EXPECT_TRUE(saw_type && saw_name);
}

}  // namespace
}  // namespace orchestrator::testing

// End to end: task kinds from a blueprint file (--blueprints), and a templated --url.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

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
       "tasks.csv:3:11: column code: \"12x\" is not a u32"},
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
  EXPECT_NE(unknown.err.find("tasks.csv:3:3: task_type \"c\" has no blueprint in " + no_star +
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
// A header name is checked when the file is read, as -H is: a usage error, nothing run.
TEST(BlueprintCliTest, ABadHeaderNameIsAUsageErrorAtItsPlace) {
  TestServer server;
  TempDir dir;
  const std::string kinds =
      dir.Write("kinds.toml", "[types.a]\nsteps = [ { fetch = { url = \"" + server.Url("/ok") +
                                  "\", headers = { \"X Bad\" = \"v\" } } } ]\n");
  const ProcessResult result =
      RunOrchestrator({"--blueprints", kinds, dir.Write("tasks.csv", "task_id,task_type\n1,a\n")});
  EXPECT_EQ(result.exit_status, 2) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(result.err.starts_with("orchestrator: " + kinds + ":2:")) << result.err;
  EXPECT_NE(result.err.find("header \"X Bad\" has an invalid name"), std::string::npos)
      << result.err;
  EXPECT_EQ(server.requests(), 0u) << "nothing ran";
}

// curl's habits in a blueprint file: a method in any case, a URL without a scheme.
TEST(BlueprintCliTest, AMethodInAnyCaseAndAUrlWithoutASchemeInTheFile) {
  TestServer server;
  TempDir dir;
  const std::string kinds = dir.Write(
      "kinds.toml", "[types.a]\nsteps = [ { fetch = { url = \"127.0.0.1:" +
                        std::to_string(server.port()) + "/ok\", method = \"put\" } } ]\n");
  const ProcessResult result = RunOrchestrator(
      {"--blueprints", kinds, "-q", dir.Write("tasks.csv", "task_id,task_type\n1,a\n")});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(Rows(result.out).at("1"), "Completed,");
  const auto sent = server.LastRequest();
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->method, "PUT");
}

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

// Issue 26: i32, f32, bytes and json columns, read from the CSV and sent as the templates say.
TEST(BlueprintCliTest, I32F32BytesAndJsonColumnsReachTheServer) {
  TestServer server;
  TempDir dir;
  const std::string kinds = dir.Write(
      "kinds.toml",
      "[types.store]\ncolumns = { n = \"i32\", r = \"f32\", b = \"bytes\", j = \"json\" }\n"
      "[[types.store.steps]]\nname = \"put\"\n[types.store.steps.fetch]\nmethod = \"POST\"\n"
      "url = \"" +
          server.Url("/task/{task_id}?b={b}&j={j}&n={n}&r={r}") +
          "\"\nexpect = [200]\n"
          "headers = { X-Bytes = \"{b}\", X-Json = \"{j:json}\" }\n"
          "body = '{\"n\": {n:json}, \"r\": {r:json}, \"b\": {b:json}, \"j\": {j:json}}|{j:raw}|"
          "{b:raw}'\n");
  // Row 2's bytes hold a line break: they cannot go in its header, so that task fails.
  const ProcessResult result = RunOrchestrator(
      {"--blueprints", kinds,
       dir.Write("tasks.csv",
                 "task_id,task_type,n,r,b,j\n"
                 "1,store,-007,0.30000000000000004,aGkJdGhlcmX/,"
                 "\"{\"\"a\"\" : [1.0, 12345678901234567890123], \"\"s\"\": \"\"x y\"\"}\"\n"
                 "2,store,1,1,YQ0KWC1FdmlsOiAx,null\n")});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  const auto rows = Rows(result.out);
  ASSERT_EQ(rows.size(), 2u) << result.out;
  EXPECT_EQ(rows.at("1"), "Completed,");
  EXPECT_EQ(rows.at("2"), "Failed,put: value of b has a line break; it cannot go in a header");
  EXPECT_EQ(server.requests(), 1u);
  const auto sent = server.LastRequest();
  ASSERT_TRUE(sent.has_value());
  const std::string as_written = R"({"a" : [1.0, 12345678901234567890123], "s": "x y"})";
  const std::string compact = R"({"a":[1.0,12345678901234567890123],"s":"x y"})";
  // Plain values in a URL: the decoded bytes and the JSON as written, percent-encoded.
  EXPECT_EQ(sent->target,
            "/task/1?b=hi%09there%FF&j=%7B%22a%22%20%3A%20%5B1.0%2C%2012345678901234567890123%5D%"
            "2C%20%22s%22%3A%20%22x%20y%22%7D&n=-7&r=0.3");
  EXPECT_EQ(sent->Header("X-Bytes"), "hi\tthere\xff");
  EXPECT_EQ(sent->Header("X-Json"), compact);
  EXPECT_EQ(sent->body, R"({"n": -7, "r": 0.3, "b": "aGkJdGhlcmX/", "j": )" + compact + "}|" +
                            as_written + "|hi\tthere\xff");

  // A value that is not of its column's type: the file and line, nothing run.
  struct Case {
    std::string csv;
    std::string error;
  };
  const Case cases[] = {
      {"task_id,task_type,n,r,b,j\n1,store,1,1,,1\n2,store,1,1,ab$c,1\n",
       "tasks.csv:3:13: column b: \"ab$c\" is not bytes (base64: \"$\" at byte 3)"},
      {"task_id,task_type,n,r,b,j\n1,store,1,1,,1\n\n3,store,1,1,,{a:1}\n",
       "tasks.csv:4:14: column j: \"{a:1}\" is not json (syntax error at byte 2)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.csv);
    const ProcessResult bad =
        RunOrchestrator({"--blueprints", kinds, dir.Write("tasks.csv", c.csv)});
    EXPECT_EQ(bad.exit_status, 2);
    EXPECT_EQ(bad.out, "");
    EXPECT_NE(bad.err.find("orchestrator: " + dir.path() + "/" + c.error), std::string::npos)
        << bad.err;
  }
  EXPECT_EQ(server.requests(), 1u) << "nothing more ran";
}

// The webhook requests the server recorded, oldest first, with their JSON bodies.
struct SentWebhook {
  std::string method;
  std::string target;
  std::string content_type;
  boost::json::object body;
};
std::vector<SentWebhook> Webhooks(const TestServer& server) {
  std::vector<SentWebhook> hooks;
  for (const TestServer::RecordedRequest& request : server.RecordedRequests()) {
    if (!request.target.starts_with("/task/hook") && !request.target.starts_with("/delay/")) {
      continue;
    }
    hooks.push_back({request.method, request.target, request.Header("Content-Type").value_or(""),
                     boost::json::parse(request.body).as_object()});
  }
  return hooks;
}

// Each event's webhooks with the task's record; the run ends only once they are delivered.
TEST(BlueprintCliTest, WebhooksCarryTheTaskRecordOnEachEvent) {
  TestServer server;
  TempDir dir;
  const std::string kinds =
      dir.Write("kinds.toml",
                "[types.a]\ncolumns = { code = \"u32\" }\n"
                "steps = [ { name = \"check\", fetch = { url = \"" +
                    server.Url("/status/{code}") +
                    "\", retries = 0 } } ]\n"
                    "on_start = [ { url = \"" +
                    server.Url("/task/hook-start-{task_id}") +
                    "\" } ]\n"
                    // Delivered 800 ms after it is sent: the run waits for it.
                    "on_success = [ { url = \"" +
                    server.Url("/delay/800") +
                    "\" } ]\n"
                    "on_failure = [ { url = \"" +
                    server.Url("/task/hook-failed-{task_id}") +
                    "\", method = \"PUT\", headers = { X-Token = \"t\" } } ]\n");
  const ProcessResult result =
      RunOrchestrator({"--blueprints", kinds,
                       dir.Write("tasks.csv", "task_id,task_type,code\n1,a,200\n2,a,404\n")});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  const auto rows = Rows(result.out);
  EXPECT_EQ(rows.at("1"), "Completed,");
  EXPECT_EQ(rows.at("2"), "Failed,check: HTTP 404 Not Found");
  EXPECT_GE(result.seconds, 0.8) << "the run ended before its on_success webhook was delivered";

  const std::vector<SentWebhook> hooks = Webhooks(server);
  ASSERT_EQ(hooks.size(), 4u);
  std::map<std::string, const SentWebhook*> by_target;
  for (const SentWebhook& hook : hooks) {
    by_target[hook.target] = &hook;
    EXPECT_EQ(hook.content_type, "application/json");
  }
  // Each task's start webhook came before its end webhook.
  for (const std::string id : {"1", "2"}) {
    const auto start = std::find_if(hooks.begin(), hooks.end(), [&](const SentWebhook& h) {
      return h.target == "/task/hook-start-" + id;
    });
    const auto end = std::find_if(hooks.begin(), hooks.end(), [&](const SentWebhook& h) {
      return h.body.at("task_id") == std::stoi(id) && h.body.at("event") != "start";
    });
    ASSERT_TRUE(start != hooks.end() && end != hooks.end()) << id;
    EXPECT_LT(start - hooks.begin(), end - hooks.begin()) << id;
  }
  const SentWebhook& start = *by_target.at("/task/hook-start-1");
  EXPECT_EQ(start.method, "POST");
  EXPECT_EQ(start.body.at("event"), "start");
  EXPECT_EQ(start.body.at("task_type"), "a");
  EXPECT_TRUE(start.body.at("final_status").is_null());
  const SentWebhook& success = *by_target.at("/delay/800");
  EXPECT_EQ(success.method, "POST");
  EXPECT_EQ(success.body.at("task_id"), 1);
  EXPECT_EQ(success.body.at("event"), "success");
  EXPECT_EQ(success.body.at("final_status"), "Completed");
  EXPECT_EQ(success.body.at("attempts"), 1);
  EXPECT_GE(success.body.at("duration_ms").as_int64(), 0);
  EXPECT_EQ(success.body.at("started_at").as_string().size(), 24u);  // 2026-12-02T09:00:00.000Z
  const SentWebhook& failure = *by_target.at("/task/hook-failed-2");
  EXPECT_EQ(failure.method, "PUT");
  EXPECT_EQ(failure.body.at("event"), "failure");
  EXPECT_EQ(failure.body.at("final_status"), "Failed");
  EXPECT_EQ(failure.body.at("error_info"), "check: HTTP 404 Not Found");
}

// A webhook is retried like a fetch; one that fails for good is a warning (even with -q) and
// a count in the summary, and the task's row and the exit status stand.
TEST(BlueprintCliTest, AFailingWebhookLeavesItsTaskCompletedWithAWarning) {
  TestServer server;
  TempDir dir;
  const std::string kinds = dir.Write("kinds.toml",
                                      "[defaults]\nretry_delay = \"10ms\"\n"
                                      "[types.a]\nsteps = [ { emit = \"ran {task_id}\" } ]\n"
                                      "on_success = [ { url = \"" +
                                          server.Url("/status/500") +
                                          "\", retries = 2 },\n"
                                          "               { url = \"" +
                                          server.Url("/flaky/2/503") + "?{task_id}\" } ]\n");
  const std::string tasks = dir.Write("tasks.csv", "task_id,task_type\n1,a\n");
  for (const bool quiet : {false, true}) {
    SCOPED_TRACE(quiet ? "-q" : "");
    server.ResetCounters();
    std::vector<std::string> args{"--blueprints", kinds, tasks};
    if (quiet) args.insert(args.begin(), "-q");
    const ProcessResult result = RunOrchestrator(args);
    EXPECT_EQ(result.exit_status, 0) << result.err;
    EXPECT_EQ(Rows(result.out).at("1"), "Completed,");
    EXPECT_NE(result.err.find("orchestrator: warning: on_success webhook 1 for task 1: HTTP 500 "
                              "Internal Server Error (after 3 attempts)\n"),
              std::string::npos)
        << result.err;
    EXPECT_EQ(result.err.find("webhook 2"), std::string::npos) << "retried until delivered";
    EXPECT_EQ(server.RequestsFor("/status/500"), 3u);
    EXPECT_EQ(server.RequestsFor("/flaky/2/503?1"), 3u);
    EXPECT_EQ(result.err.find("1 Completed, 0 Failed in") == std::string::npos, quiet);
    EXPECT_EQ(result.err.find("; 1 webhook given up\n") == std::string::npos, quiet) << result.err;
  }
}

// Issue 24: a value "." or ".." in the path moved the request (curl removed the segment):
// /task/{task_type}/delete with ".." sent /delete, a blueprint's /regions/{region}/purge sent
// /purge, and a webhook's /hooks/{region}/done sent /done. The path the server received
// keeps each value in its place; the template's own dot segments are resolved.
TEST(BlueprintCliTest, ValuesThatAreDotSegmentsStayInThePathTheyAreIn) {
  TestServer server;
  TempDir dir;
  const auto targets = [&] {
    std::multiset<std::string> received;
    for (const TestServer::RecordedRequest& request : server.RecordedRequests()) {
      received.insert(request.method + " " + request.target);
    }
    server.ResetCounters();
    return received;
  };

  const ProcessResult url = RunOrchestrator(
      {"--url", server.Url("/task/{task_type}/delete?id={task_id}"), "--delay", "0", "-q",
       dir.Write("tasks.csv", "task_id,task_type\n1,..\n2,.\n3,%2e%2e\n4,..%2F..\n")});
  EXPECT_EQ(url.exit_status, 0) << url.err << url.out;
  EXPECT_EQ(targets(), (std::multiset<std::string>{
                           "GET /task/%2E%2E/delete?id=1", "GET /task/%2E/delete?id=2",
                           "GET /task/%252e%252e/delete?id=3", "GET /task/..%252F../delete?id=4"}));

  const std::string kinds =
      dir.Write("kinds.toml",
                "[defaults]\nretries = 0\n[types.purge]\ncolumns = { region = \"string\" }\n"
                "on_success = [ { url = \"" +
                    server.Url("/task/hooks/{region}/done") +
                    "\" } ]\n"
                    "steps = [ { fetch = \"" +
                    server.Url("/task/x/y/../../regions/./{region}/purge") + "\" } ]\n");
  const ProcessResult file = RunOrchestrator(
      {"--blueprints", kinds, "-q",
       dir.Write("regions.csv", "task_id,task_type,region\n1,purge,..\n2,purge,.\n")});
  EXPECT_EQ(file.exit_status, 0) << file.err << file.out;
  EXPECT_EQ(targets(), (std::multiset<std::string>{
                           "GET /task/regions/%2E%2E/purge", "GET /task/regions/%2E/purge",
                           "POST /task/hooks/%2E%2E/done", "POST /task/hooks/%2E/done"}));
}

}  // namespace
}  // namespace orchestrator::testing

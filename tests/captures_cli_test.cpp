// End to end: captures, the result's columns taken from responses (--capture, capture = {}).
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "cli_support.h"
#include "subprocess.h"
#include "test_server.h"

namespace orchestrator::testing {
namespace {

// The header line and the rows by task_id (each without its task_id).
struct Table {
  std::string header;
  std::map<std::string, std::string> rows;
};

Table TableOf(const std::string& out) {
  Table table;
  const std::vector<std::string> lines = Lines(out);
  if (lines.empty()) {
    ADD_FAILURE() << "no header";
    return table;
  }
  table.header = lines[0];
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string id = lines[i].substr(0, lines[i].find(','));
    EXPECT_TRUE(table.rows.emplace(id, lines[i].substr(id.size() + 1)).second) << "twice: " << id;
  }
  return table;
}

// Two kinds that share a column (status) and one that captures nothing.
std::string CatalogToml(const TestServer& server) {
  return "[defaults]\nretries = 0\n\n"
         "[types.item]\n"
         "steps = [ { name = \"lookup\", fetch = { url = \"" +
         server.Url("/item/{task_id}") +
         "\", capture = { status = \"status\", sku = \"json:/sku\", price = \"json:/price\", "
         "etag = \"header:ETag\", tags = \"json:/tags\", owner = \"json:/data/owner\", "
         "missing = \"json:/nope?\" } } } ]\n\n"
         "[types.ping]\n"
         "steps = [ { fetch = { url = \"" +
         server.Url("/ok") +
         "\", capture = { status = \"status\" } } } ]\n\n"
         "[types.other]\n"
         "steps = [ { fetch = \"" +
         server.Url("/ok") + "\" } ]\n";
}

TEST(CapturesCliTest, ABlueprintsCapturesAreColumnsOfTheResultOnStdoutAndOutputAtEveryThreadCount) {
  TestServer server;
  TempDir dir;
  const std::string kinds = dir.Write("kinds.toml", CatalogToml(server));
  const std::string tasks =
      dir.Write("tasks.csv", "task_id,task_type\n1,item\n2,ping\n3,other\n12,item\n");
  for (const char* threads : {"1", "2", "4"}) {
    SCOPED_TRACE(threads);
    const std::string output = dir.path() + "/results-" + threads + ".csv";
    const ProcessResult result =
        RunOrchestrator({"--blueprints", kinds, "--threads", threads, "--output", output, tasks});
    EXPECT_EQ(result.exit_status, 0) << result.err;
    const Table table = TableOf(result.out);
    // In the order first declared in the file; status once for both kinds.
    EXPECT_EQ(table.header,
              "task_id,final_status,error_info,status,sku,price,etag,tags,owner,missing");
    ASSERT_EQ(table.rows.size(), 4u) << result.out;
    EXPECT_EQ(table.rows.at("1"), R"(Completed,,200,sku-1,1.5,"""etag-1""","[""a"",""b""]",null,)");
    EXPECT_EQ(table.rows.at("12"),
              R"(Completed,,200,sku-12,12.5,"""etag-12""","[""a"",""b""]",null,)");
    EXPECT_EQ(table.rows.at("2"), "Completed,,200,,,,,,");
    EXPECT_EQ(table.rows.at("3"), "Completed,,,,,,,,");
    EXPECT_EQ(Contents(output), result.out);
  }
}

TEST(CapturesCliTest, TheBuiltinFetchCapturesWhatCaptureFlagsSay) {
  TestServer server;
  TempDir dir;
  const ProcessResult result = RunOrchestrator(
      {"--url", server.Url("/redirect-item/{task_id}"), "--delay", "0", "--capture", "code=status",
       "--capture", "where=url", "--capture", "bytes=size", "--capture", "digest=sha256",
       "--capture", "ms=time", "--capture", "id=regex:\"id\":(\\d+)",
       dir.Write("tasks.csv", "task_id,task_type\n7,process_data\n")});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  const Table table = TableOf(result.out);
  EXPECT_EQ(table.header, "task_id,final_status,error_info,code,where,bytes,digest,ms,id");
  ASSERT_EQ(table.rows.size(), 1u);
  // The body of /item/7 is 80 bytes; its SHA-256 is `sha256sum`'s.
  const std::regex row(
      "Completed,,200," + server.Url("/item/7") +
      ",80,d9d56fc3e24a2cbc24c20bbb6c687b360d0ab85ac9bffb85c51db997826ea0c3,[0-9]+\\.[0-9]{3},7");
  EXPECT_TRUE(std::regex_match(table.rows.at("7"), row)) << table.rows.at("7");
}

TEST(CapturesCliTest, AValueNotThereFailsItsTaskSayingWhichAndAnOptionalOneIsEmpty) {
  TestServer server;
  TempDir dir;
  const ProcessResult result =
      RunOrchestrator({"--url", server.Url("/item/{task_id}"), "--delay", "0", "--capture",
                       "price=json:/data/price", "--capture", "n=json:/data/n?",
                       dir.Write("tasks.csv", "task_id,task_type\n3,process_data\n")});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  const Table table = TableOf(result.out);
  EXPECT_EQ(table.header, "task_id,final_status,error_info,price,n");
  // The others stand in the row of a task that failed for a missing one.
  EXPECT_EQ(table.rows.at("3"), "Failed,capture price: /data/price is not in the body,,3");
  EXPECT_EQ(server.requests(), 1u) << "a missing value is the answer: no retry";
}

TEST(CapturesCliTest, ABodyAndAHeaderWithControlsAndInvalidUtf8ReachNoCellAsSuch) {
  TestServer server;
  TempDir dir;
  const ProcessResult result = RunOrchestrator(
      {"--url", server.Url("/hostile-body"), "--delay", "0", "--capture", "text=body", "--capture",
       "header=header:X-Hostile", dir.Write("tasks.csv", "task_id,task_type\n1,process_data\n")});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  const std::vector<std::string> lines = Lines(result.out);
  ASSERT_EQ(lines.size(), 2u) << "one row, one line";
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(lines[1], "1,Completed,,line1" + r + r + "A" + r + "[31mred" + r + r + r + "end" + r +
                          ",a" + r + "[31mb" + r + "c" + r);
}

TEST(CapturesCliTest, MistakesInASpecAreUsageOrFileErrorsWithTheirPlaceAndRunNothing) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", "task_id,task_type\n1,process_data\n");
  struct Flag {
    std::vector<std::string> args;
    std::string error;
  };
  const Flag flags[] = {
      {{"--capture", "price"}, "--capture \"price\": write NAME=SPEC, like price=json:/price"},
      {{"--capture", "price=jsn:/x"},
       "--capture price: \"jsn\" is not a capture: it is status, url, time, header:NAME, "
       "json:POINTER, regex:PATTERN, body, size or sha256"},
      {{"--capture", "a=status", "--capture", "a=url"}, "--capture a is given twice"},
      {{"--capture", "error_info=status"},
       "--capture \"error_info\": error_info is a column of every result row already"},
      {{"--capture", "x=regex:(a"}, "--capture x: not a pattern RE2 reads: missing ): (a"},
  };
  for (const Flag& flag : flags) {
    std::vector<std::string> args = flag.args;
    args.insert(args.end(), {"--url", server.Url("/ok"), tasks});
    const ProcessResult result = RunOrchestrator(args);
    EXPECT_EQ(result.exit_status, 2) << flag.error;
    EXPECT_EQ(result.out, "");
    EXPECT_NE(result.err.find("orchestrator: " + flag.error), std::string::npos) << result.err;
  }
  struct File {
    std::string toml;
    std::string error;
  };
  const std::string url = "http://h/";  // nothing is fetched
  const File files[] = {
      {"[types.a]\nsteps = [ { fetch = { url = \"" + url +
           "\", capture = { p = \"json:price\" } } } ]\n",
       ":2:58: capture p: a JSON Pointer starts with \"/\" (json:/data/price) in \"json:price\""},
      {"[types.a]\ncolumns = { p = \"string\" }\nsteps = [ { fetch = { url = \"" + url +
           "\", capture = { p = \"status\" } } } ]\n",
       ":3:54: capture p has the name of a column of [types.a]: {p} would mean both"},
      {"[types.a]\nsteps = [ { fetch = { url = \"" + url +
           "\", capture = { p = \"status\" } } },\n"
           "  { fetch = { url = \"" +
           url + "\", capture = { p = \"size\" } } } ]\n",
       ":3:46: capture p is declared twice in [types.a] (first at line 2, column 54)"},
  };
  for (const File& file : files) {
    const std::string kinds = dir.Write("kinds.toml", file.toml);
    const ProcessResult result = RunOrchestrator({"--blueprints", kinds, tasks});
    EXPECT_EQ(result.exit_status, 2) << file.toml;
    EXPECT_EQ(result.out, "");
    EXPECT_NE(result.err.find("orchestrator: " + kinds + file.error), std::string::npos)
        << result.err;
  }
  EXPECT_EQ(server.requests(), 0u);
}

TEST(CapturesCliTest, ResumeCarriesTheValuesOfCompletedRowsAndRunsTheRestAgain) {
  TestServer server;
  TempDir dir;
  const std::string kinds =
      dir.Write("kinds.toml",
                "[defaults]\nretries = 0\n\n[types.item]\ncolumns = { path = \"string\" }\n"
                "steps = [ { fetch = { url = \"" +
                    server.Url("/{path:raw}") +
                    "\", capture = { sku = \"json:/sku\", etag = \"header:ETag\" } } } ]\n");
  const std::string results = dir.path() + "/results.csv";
  // Task 2's server is down the first time: its fetch fails, so it runs again on resume.
  const std::string first_tasks = dir.Write(
      "first.csv", "task_id,task_type,path\n1,item,item/1\n2,item,status/503\n3,item,item/3\n");
  const ProcessResult first =
      RunOrchestrator({"--blueprints", kinds, "--output", results, first_tasks});
  EXPECT_EQ(first.exit_status, 1) << first.err;
  const std::string second_tasks = dir.Write(
      "second.csv", "task_id,task_type,path\n1,item,item/1\n2,item,item/2\n3,item,item/3\n");
  const std::size_t requests_before = server.requests();
  const ProcessResult second = RunOrchestrator(
      {"--blueprints", kinds, "--resume", results, "--output", results, second_tasks});
  EXPECT_EQ(second.exit_status, 0) << second.err;
  EXPECT_EQ(server.requests() - requests_before, 1u) << "only task 2 runs again";
  const Table table = TableOf(Contents(results));
  EXPECT_EQ(table.header, "task_id,final_status,error_info,sku,etag");
  EXPECT_EQ(table.rows.at("1"), R"(Completed,,sku-1,"""etag-1""")");
  EXPECT_EQ(table.rows.at("2"), R"(Completed,,sku-2,"""etag-2""")");
  EXPECT_EQ(table.rows.at("3"), R"(Completed,,sku-3,"""etag-3""")");

  // A run that no longer captures etag says so, and carries sku.
  const std::string fewer =
      dir.Write("fewer.toml",
                "[types.item]\ncolumns = { path = \"string\" }\n"
                "steps = [ { fetch = { url = \"" +
                    server.Url("/{path:raw}") + "\", capture = { sku = \"json:/sku\" } } } ]\n");
  const ProcessResult third =
      RunOrchestrator({"--blueprints", fewer, "--resume", results, second_tasks});
  EXPECT_EQ(third.exit_status, 0) << third.err;
  EXPECT_NE(third.err.find("orchestrator: warning: " + results +
                           ": column etag is not captured by this run: the values are not "
                           "carried over"),
            std::string::npos)
      << third.err;
  const Table carried = TableOf(third.out);
  EXPECT_EQ(carried.header, "task_id,final_status,error_info,sku");
  EXPECT_EQ(carried.rows.at("2"), "Completed,,sku-2");
}

TEST(CapturesCliTest, ALaterStepUsesWhatAnEarlierOneCaptured) {
  TestServer server;
  TempDir dir;
  // Look the item up, then send its sku and ETag on (percent-encoded in the URL, as is in a
  // header and a JSON body), and say so on stderr.
  const std::string kinds = dir.Write(
      "kinds.toml",
      "[types.item]\n"
      "[[types.item.steps]]\nname = \"lookup\"\nfetch.url = \"" +
          server.Url("/item/{task_id}") +
          "\"\nfetch.capture = { sku = \"json:/sku\", etag = \"header:ETag\" }\n"
          "[[types.item.steps]]\nname = \"store\"\nfetch.method = \"POST\"\nfetch.url = \"" +
          server.Url("/ok?sku={sku}&etag={etag}") +
          "\"\nfetch.headers = { If-Match = \"{etag}\" }\n"
          "fetch.body = '{\"sku\": {sku:json}}'\n"
          "[[types.item.steps]]\nemit = \"stored {sku} for {task_id}\"\n");
  for (const char* threads : {"1", "2", "4"}) {
    SCOPED_TRACE(threads);
    const ProcessResult result =
        RunOrchestrator({"--blueprints", kinds, "--threads", threads,
                         dir.Write("tasks.csv", "task_id,task_type\n7,item\n")});
    EXPECT_EQ(result.exit_status, 0) << result.err;
    EXPECT_EQ(TableOf(result.out).rows.at("7"), R"(Completed,,sku-7,"""etag-7""")");
    const std::optional<TestServer::RecordedRequest> sent = server.LastRequest();
    ASSERT_TRUE(sent.has_value());
    EXPECT_EQ(sent->method, "POST");
    EXPECT_EQ(sent->target, "/ok?sku=sku-7&etag=%22etag-7%22");
    EXPECT_EQ(sent->Header("If-Match"), "\"etag-7\"");
    EXPECT_EQ(sent->body, R"({"sku": "sku-7"})");
    EXPECT_NE(result.err.find("orchestrator: stored sku-7 for 7\n"), std::string::npos)
        << result.err;
  }
}

TEST(CapturesCliTest, AStepCannotNameItsOwnCapturesOrALaterStepsOnes) {
  TempDir dir;
  const std::string own =
      dir.Write("own.toml",
                "[types.a]\nsteps = [ { fetch = { capture = { sku = \"json:/sku\" }, "
                "url = \"http://127.0.0.1:1/{sku}\" } } ]\n");
  const ProcessResult result =
      RunOrchestrator({"--blueprints", own, dir.Write("tasks.csv", "task_id,task_type\n1,a\n")});
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_NE(result.err.find("unknown name \"sku\" in {sku}"), std::string::npos) << result.err;
}

TEST(CapturesCliTest, TheFinishedEventAndTheEndWebhookCarryTheCaptures) {
  TestServer server;
  TempDir dir;
  const std::string kinds = dir.Write(
      "kinds.toml", "[types.item]\nsteps = [ { fetch = { url = \"" + server.Url("/item/{task_id}") +
                        "\", capture = { sku = \"json:/sku\", bad = \"header:X-None?\", "
                        "code = \"status\" } } } ]\n"
                        "on_success = [ { url = \"" +
                        server.Url("/ok?hook=done") + "\" } ]\n");
  const std::string events = dir.path() + "/events.jsonl";
  const ProcessResult result =
      RunOrchestrator({"--blueprints", kinds, "--events", events,
                       dir.Write("tasks.csv", "task_id,task_type\n5,item\n")});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  const std::vector<std::string> lines = Lines(Contents(events));
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find(R"("event":"finished","final_status":"Completed","error_info":"",)"
                              R"("captures":{"sku":"sku-5","bad":"","code":200}})"),
            std::string::npos)
      << lines.back();
  // Valid against the schema the README points to.
  const std::string check = dir.Write("check.py", R"(
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
for line in open(sys.argv[2]):
    jsonschema.validate(json.loads(line), schema)
)");
  Subprocess python(
      {"/usr/bin/python3", check, ORCHESTRATOR_SOURCE_DIR "/docs/events.schema.json", events}, {});
  const ProcessResult checked = python.Wait();
  EXPECT_EQ(checked.exit_status, 0) << checked.err;
  const std::optional<TestServer::RecordedRequest> hook = server.LastRequest();
  ASSERT_TRUE(hook.has_value());
  EXPECT_EQ(hook->target, "/ok?hook=done");
  // The status is a number, as in a JSON Lines row.
  EXPECT_NE(hook->body.find(
                R"("error_info":"","captures":{"sku":"sku-5","bad":"","code":200},"attempts")"),
            std::string::npos)
      << hook->body;
}

// Values for the tasks that depend on a task: {dep.NAME} is the one dependency's value,
// {deps.NAME:json} every dependency's, in the order the task's row lists them. At every thread
// count, so that parents and children sit on different threads.
class DependencyValuesCliTest : public ::testing::TestWithParam<int> {};

// item captures sku and n; order fetches /item/{dep.n}?sku={dep.sku} and captures got.
std::string ItemsAndOrders(const TestServer& server) {
  return "[types.item]\n"
         "steps = [ { name = \"lookup\", fetch = { url = \"" +
         server.Url("/item/{task_id}") +
         "\", capture = { sku = \"json:/sku\", n = \"json:/data/n\" } } } ]\n\n"
         "[types.order]\n"
         "steps = [ { name = \"order\", fetch = { url = \"" +
         server.Url("/item/{dep.n}?sku={dep.sku}") +
         "\", capture = { got = \"json:/sku\" } } } ]\n\n";
}

TEST_P(DependencyValuesCliTest, ATaskUsesWhatItsDependenciesCaptured) {
  TestServer server;
  TempDir dir;
  const std::string kinds = dir.Write(
      "kinds.toml", ItemsAndOrders(server) +
                        "[types.total]\n"
                        "steps = [ { name = \"sum\", fetch = { url = \"" +
                        server.Url("/ok") +
                        "\", method = \"POST\", body = '{\"skus\":{deps.sku:json}}' } } ]\n");
  const std::string tasks = dir.Write("tasks.csv",
                                      "task_id,task_type,depends_on\n"
                                      "10,item,\n"
                                      "11,item,\n"
                                      "20,order,10\n"
                                      "30,total,20;11;10\n"
                                      "40,order,10;11\n"
                                      "50,order,\n");
  const ProcessResult result = RunOrchestrator(
      {"--blueprints", kinds, "--threads", std::to_string(GetParam()), "-q", tasks});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  const Table table = TableOf(result.out);
  EXPECT_EQ(table.header, "task_id,final_status,error_info,sku,n,got");
  EXPECT_EQ(table.rows.at("10"), "Completed,,sku-10,3,");
  EXPECT_EQ(table.rows.at("11"), "Completed,,sku-11,4,");
  // 10's n is 3: 20 fetched /item/3?sku=sku-10.
  EXPECT_EQ(table.rows.at("20"), "Completed,,,,sku-3");
  EXPECT_EQ(server.RequestsFor("/item/3?sku=sku-10"), 1u);
  EXPECT_EQ(table.rows.at("30"), "Completed,,,,");
  EXPECT_EQ(table.rows.at("40"),
            "Failed,\"dep.n: 2 dependencies captured n (10, 11); {deps.n:json} lists every "
            "one\",,,");
  EXPECT_EQ(table.rows.at("50"), "Failed,dep.n: no dependency captured n,,,");
  // In the order 30's depends_on lists them, whatever order they end in; 20 captured no sku.
  std::optional<TestServer::RecordedRequest> sum;
  for (const TestServer::RecordedRequest& request : server.RecordedRequests()) {
    if (request.method == "POST") sum = request;
  }
  ASSERT_TRUE(sum);
  EXPECT_EQ(sum->body, R"({"skus":[null,"sku-11","sku-10"]})");
  EXPECT_EQ(server.requests(), 4u) << "40 and 50 sent nothing";
}

// The earlier result file is the result cache: a parent carried over by --resume gives its
// children what it captured then.
TEST_P(DependencyValuesCliTest, AParentCarriedOverByResumeGivesItsValuesFromTheEarlierFile) {
  TestServer server;
  TempDir dir;
  const std::string kinds = dir.Write("kinds.toml", ItemsAndOrders(server));
  const std::string tasks = dir.Write(
      "tasks.csv", "task_id,task_type,depends_on\n10,item,\n11,item,\n20,order,10\n21,order,11\n");
  // 10 completed before, with values no server would give now; 11 failed, so it runs again.
  const std::string earlier =
      dir.Write("earlier.csv",
                "task_id,final_status,error_info,sku,n,got\n10,Completed,,sku-old,5,\n"
                "11,Failed,HTTP 503 Service Unavailable,,,\n");
  const ProcessResult result =
      RunOrchestrator({"--blueprints", kinds, "--threads", std::to_string(GetParam()), "-q",
                       "--resume", earlier, tasks});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  const Table table = TableOf(result.out);
  EXPECT_EQ(table.rows.at("10"), "Completed,,sku-old,5,") << "carried over";
  EXPECT_EQ(table.rows.at("20"), "Completed,,,,sku-5");
  EXPECT_EQ(server.RequestsFor("/item/5?sku=sku-old"), 1u);
  EXPECT_EQ(server.RequestsFor("/item/10"), 0u);
  EXPECT_EQ(table.rows.at("21"), "Completed,,,,sku-4") << "11 ran again: n = 11 % 7";
}

// The built-in blueprint's fetch names its dependencies' values by the names of --capture:
// every task runs it, so {deps.NAME:json} suits it, and {dep.NAME} fails a task without
// exactly one dependency that captured NAME, a root among them, before it sends anything.
TEST_P(DependencyValuesCliTest, TheBuiltinFetchUsesWhatItsDependenciesCaptured) {
  TestServer server;
  TempDir dir;
  const std::string tasks =
      dir.Write("tasks.csv", "task_id,depends_on\n10,\n11,\n20,11;10\n30,10 20 11\n");
  const ProcessResult lists = RunOrchestrator(
      {"--url", server.Url("/item/{task_id}"), "-d", "{deps.sku:json}", "--capture",
       "sku=json:/sku", "--delay", "0", "--threads", std::to_string(GetParam()), "-q", tasks});
  EXPECT_EQ(lists.exit_status, 0) << lists.err;
  const Table rows = TableOf(lists.out);
  EXPECT_EQ(rows.header, "task_id,final_status,error_info,sku");
  EXPECT_EQ(rows.rows.at("20"), "Completed,,sku-20");
  EXPECT_EQ(rows.rows.size(), 4u);
  std::map<std::string, std::string> bodies;
  for (const TestServer::RecordedRequest& request : server.RecordedRequests()) {
    bodies[request.target] = request.body;
  }
  EXPECT_EQ(bodies["/item/10"], "[]");
  EXPECT_EQ(bodies["/item/20"], R"(["sku-11","sku-10"])");
  EXPECT_EQ(bodies["/item/30"], R"(["sku-10","sku-20","sku-11"])");

  // {dep.n}: a root has no dependency that captured n; 20's one parent came from --resume.
  const std::string earlier = dir.Write(
      "earlier.csv", "task_id,final_status,error_info,n\n11,Completed,,5\n10,Failed,x,\n");
  const std::string chain = dir.Write("chain.csv", "task_id,after\n10,\n11,\n20,11\n");
  const ProcessResult one = RunOrchestrator(
      {"--url", server.Url("/item/{task_id}?after={dep.n}"), "--capture", "n=json:/data/n",
       "--delay", "0", "--threads", std::to_string(GetParam()), "-q", "--resume", earlier, chain});
  EXPECT_EQ(one.exit_status, 1) << one.err;
  const Table table = TableOf(one.out);
  EXPECT_EQ(table.rows.at("10"), "Failed,dep.n: no dependency captured n,");
  EXPECT_EQ(table.rows.at("11"), "Completed,,5") << "carried over";
  EXPECT_EQ(table.rows.at("20"), "Completed,,6");
  EXPECT_EQ(server.RequestsFor("/item/20?after=5"), 1u);
  EXPECT_EQ(server.RequestsFor("/item/10?after="), 0u) << "10 sent nothing";
}

INSTANTIATE_TEST_SUITE_P(Threads, DependencyValuesCliTest, ::testing::Values(1, 2, 4));

// JSON Lines rows by task_id, each line checked to be one JSON object (Boost.JSON reads it).
std::map<std::uint64_t, boost::json::object> JsonRows(const std::string& out) {
  std::map<std::uint64_t, boost::json::object> rows;
  for (const std::string& line : Lines(out)) {
    boost::system::error_code error;
    boost::json::value value = boost::json::parse(line, error);
    EXPECT_FALSE(error) << line;
    if (error || !value.is_object()) {
      ADD_FAILURE() << "not an object: " << line;
      continue;
    }
    const std::uint64_t id = value.at("task_id").to_number<std::uint64_t>();
    EXPECT_TRUE(rows.emplace(id, value.get_object()).second) << "twice: " << id;
  }
  return rows;
}

TEST(CapturesCliTest, JsonLinesWriteAnObjectPerTaskWithJsonCapturesAsValuesAtEveryThreadCount) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv",
                                      "task_id,task_type\n7,process_data\n12,process_data\n"
                                      "18446744073709551615,process_data\n");
  for (const char* threads : {"1", "2", "4"}) {
    SCOPED_TRACE(threads);
    const std::string output = dir.path() + "/results-" + threads + ".jsonl";
    const ProcessResult result = RunOrchestrator(
        {"--url", server.Url("/item/{task_id}"), "--delay", "0", "--threads", threads, "--format",
         "jsonl", "--output", output, "--capture", "price=json:/price", "--capture", "code=status",
         "--capture", "sku=json:/sku", "--capture", "none=header:X-None?", tasks});
    EXPECT_EQ(result.exit_status, 0) << result.err;
    EXPECT_EQ(Contents(output), result.out);
    const std::vector<std::string> lines = Lines(result.out);
    ASSERT_EQ(lines.size(), 3u) << result.out;  // no header
    const std::map<std::uint64_t, boost::json::object> rows = JsonRows(result.out);
    ASSERT_EQ(rows.size(), 3u);
    // As the server wrote the number: 7.5, not 7.5E0; an absent optional value is "".
    EXPECT_NE(result.out.find(R"({"task_id":7,"final_status":"Completed","error_info":"",)"
                              R"("price":7.5,"code":200,"sku":"sku-7","none":""})"
                              "\n"),
              std::string::npos)
        << result.out;
    const boost::json::object& big = rows.at(18446744073709551615u);
    EXPECT_EQ(big.at("task_id").as_uint64(), 18446744073709551615u);
    EXPECT_EQ(big.at("price").as_double(), 18446744073709551615.5);
    EXPECT_EQ(rows.at(12).at("code").as_int64(), 200);
    EXPECT_EQ(rows.at(12).at("sku").as_string(), "sku-12");
  }
  // --format is csv or jsonl.
  const ProcessResult bad = RunOrchestrator({"--format", "json", tasks});
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_EQ(bad.err.rfind("orchestrator: ", 0), 0u) << bad.err;
  EXPECT_NE(bad.err.find("--format"), std::string::npos) << bad.err;
}

TEST(CapturesCliTest, ResumeOfACutShortJsonLinesFileCarriesItsCapturesAtEveryThreadCount) {
  TestServer server;
  TempDir dir;
  const std::string tasks = dir.Write("tasks.csv", TasksCsv(4));
  for (const char* threads : {"1", "2", "4"}) {
    SCOPED_TRACE(threads);
    const std::vector<std::string> run = {"--url",     server.Url("/item/{task_id}"),
                                          "--delay",   "0",
                                          "--threads", threads,
                                          "--format",  "jsonl",
                                          "--capture", "price=json:/price",
                                          "--capture", "code=status",
                                          "--capture", "tags=json:/tags",
                                          "--capture", "sku=json:/sku"};
    const std::string results = dir.path() + "/results-" + threads + ".jsonl";
    std::vector<std::string> first = run;
    first.insert(first.end(), {"--output", results, tasks});
    ASSERT_EQ(RunOrchestrator(first).exit_status, 0);
    // What a kill -9 leaves: two whole rows and half of the third.
    const std::vector<std::string> lines = Lines(Contents(results));
    ASSERT_EQ(lines.size(), 4u);
    const std::string cut = lines[0] + "\n" + lines[1] + "\n" + lines[2].substr(0, 25);
    ASSERT_EQ(::truncate(results.c_str(), static_cast<off_t>(cut.size())), 0);
    const std::size_t requests_before = server.requests();
    std::vector<std::string> again = run;
    again.insert(again.end(), {"--resume", results, "--output", results, tasks});
    const ProcessResult second = RunOrchestrator(again);
    EXPECT_EQ(second.exit_status, 0) << second.err;
    EXPECT_EQ(server.requests() - requests_before, 2u) << "only the torn row's and the lost one";
    EXPECT_NE(second.err.find("orchestrator: warning: " + results + ":3: ignoring a torn last row"),
              std::string::npos)
        << second.err;
    const std::string resumed = Contents(results);
    EXPECT_EQ(JsonRows(resumed).size(), 4u) << resumed;
    for (int id = 1; id <= 4; ++id) {
      // Carried or run again, the same row: numbers, arrays and strings as such.
      const std::string row = R"({"task_id":)" + std::to_string(id) +
                              R"(,"final_status":"Completed","error_info":"","price":)" +
                              std::to_string(id) + R"(.5,"code":200,"tags":["a","b"],"sku":"sku-)" +
                              std::to_string(id) + "\"}\n";
      EXPECT_NE(resumed.find(row), std::string::npos) << row << resumed;
    }
  }
  // A result CSV resumed into JSON Lines: this run's captures say which cells are numbers.
  const std::string csv = dir.path() + "/results.csv";
  ASSERT_EQ(RunOrchestrator({"--url", server.Url("/item/{task_id}"), "--delay", "0", "--capture",
                             "price=json:/price", "--capture", "sku=json:/sku", "--output", csv,
                             dir.Write("two.csv", TasksCsv(2))})
                .exit_status,
            0);
  const ProcessResult converted =
      RunOrchestrator({"--url", server.Url("/status/500"), "--delay", "0", "--retries", "0",
                       "--format", "jsonl", "--capture", "price=json:/price", "--capture",
                       "sku=json:/sku", "--resume", csv, dir.Write("two-again.csv", TasksCsv(2))});
  EXPECT_EQ(converted.exit_status, 0) << converted.err;
  EXPECT_EQ(converted.out,
            R"({"task_id":1,"final_status":"Completed","error_info":"","price":1.5,"sku":"sku-1"})"
            "\n"
            R"({"task_id":2,"final_status":"Completed","error_info":"","price":2.5,"sku":"sku-2"})"
            "\n");
}

}  // namespace
}  // namespace orchestrator::testing

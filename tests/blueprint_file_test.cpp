// The blueprint file reader: the example file, and every mistake at its place.
#include "orchestrator/blueprint_file.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "orchestrator/input_error.h"

namespace orchestrator {
namespace {

std::string ErrorOf(const std::string& text) {
  try {
    ParseBlueprintFile(text, "kinds.toml");
  } catch (const InputError& error) {
    return error.what();
  }
  return "no error";
}

// Expands a template of `kind` with task_id 7, task_type "t", every string column "v<k>" and
// every other column "12".
std::string Expand(const Template& pattern, const Blueprint& kind) {
  std::string out;
  std::string error;
  std::vector<std::string> values;
  for (std::size_t k = 0; k < kind.columns.size(); ++k) {
    // fmt, not "v" + std::to_string(k): GCC 12 warns falsely (-Wrestrict) on that operator+.
    values.push_back(kind.columns[k].type == ColumnType::kString ? fmt::format("v{}", k) : "12");
  }
  EXPECT_TRUE(pattern.ExpandTo(
      out,
      [&](std::size_t slot) -> TemplateValue {
        if (slot == kTaskIdSlot) return {ColumnType::kU64, "7"};
        if (slot == kTaskTypeSlot) return {ColumnType::kString, "t"};
        const std::size_t k = slot - kFirstColumnSlot;
        return {kind.columns[k].type, values[k]};
      },
      error))
      << error;
  return out;
}

TEST(BlueprintFileTest, ReadsEveryColumnType) {
  const BlueprintFile file = ParseBlueprintFile(
      "[types.a]\ncolumns = { a = \"i32\", b = \"f32\", c = \"bytes\", d = \"json\", e = \"u64\" "
      "}\n"
      "steps = [ { emit = \"{a} {b} {c} {d} {e}\" } ]\n",
      "kinds.toml");
  ASSERT_EQ(file.kinds.size(), 1u);
  const std::vector<ColumnSpec>& columns = file.kinds[0].columns;
  ASSERT_EQ(columns.size(), 5u);
  EXPECT_EQ(columns[0].type, ColumnType::kI32);
  EXPECT_EQ(columns[1].type, ColumnType::kF32);
  EXPECT_EQ(columns[2].type, ColumnType::kBytes);
  EXPECT_EQ(columns[3].type, ColumnType::kJson);
  EXPECT_EQ(columns[4].type, ColumnType::kU64);
  // Only a duration column can be a delay.
  EXPECT_EQ(
      ErrorOf("[types.a]\ncolumns = { wait = \"json\" }\nsteps = [ { delay = \"{wait}\" } ]\n"),
      "kinds.toml:3:21: delay {wait}: the column is not of type duration");
}

TEST(BlueprintFileTest, ReadsTheExampleFile) {
  const BlueprintFile file = ReadBlueprintFile(ORCHESTRATOR_DATA_DIR "/kinds.toml");
  ASSERT_EQ(file.kinds.size(), 3u);

  const Blueprint& ingest = file.kinds[0];
  EXPECT_TRUE(ingest.step_names_in_errors);
  EXPECT_EQ(ingest.name, "ingest");
  ASSERT_EQ(ingest.columns.size(), 2u);
  EXPECT_EQ(ingest.columns[0].name, "region");
  EXPECT_EQ(ingest.columns[0].type, ColumnType::kString);
  EXPECT_EQ(ingest.columns[1].type, ColumnType::kU32);
  ASSERT_EQ(ingest.steps.size(), 4u);
  EXPECT_EQ(file.kinds[1].rate, 50.0);
  ASSERT_EQ(file.limits.size(), 1u);
  EXPECT_EQ(file.limits[0].text, "notify[channel]=2");
  ASSERT_EQ(ingest.on_start.size(), 1u);
  ASSERT_EQ(ingest.on_success.size(), 1u);
  ASSERT_EQ(ingest.on_failure.size(), 1u);
  EXPECT_EQ(ingest.on_failure[0].method, HttpMethod::kPut);
  EXPECT_EQ(ingest.on_failure[0].retry.max_retries, 5);
  EXPECT_EQ(ingest.steps[0].name, "fetch_item");
  const auto& fetch = std::get<FetchStep>(ingest.steps[0].action);
  EXPECT_EQ(fetch.method, HttpMethod::kGet);
  EXPECT_EQ(fetch.timeout, Duration(10'000)) << "from [defaults]";
  EXPECT_EQ(fetch.retry.max_retries, 2) << "from [defaults]";
  EXPECT_EQ(Expand(fetch.url, ingest), "http://127.0.0.1:8080/items/7?region=v0");
  EXPECT_EQ(std::get<DelayStep>(ingest.steps[1].action).duration, Duration(5'000));
  const auto& store = std::get<FetchStep>(ingest.steps[2].action);
  EXPECT_EQ(store.method, HttpMethod::kPost);
  EXPECT_EQ(store.expect, (std::vector<int>{200, 201}));
  EXPECT_EQ(store.timeout, Duration(30'000)) << "the step's own";
  EXPECT_EQ(store.connect_timeout, Duration(30'000)) << "the timeout, as --connect-timeout";
  ASSERT_EQ(store.headers.size(), 1u);
  EXPECT_EQ(store.headers[0].name, "Content-Type");
  ASSERT_TRUE(store.body.has_value());
  EXPECT_EQ(Expand(*store.body, ingest), R"({"id": 7, "region": "v0", "size": 12})");
  EXPECT_EQ(Expand(*std::get<EmitStep>(ingest.steps[3].action).text, ingest), "stored 7 from v0");

  const Blueprint& notify = file.kinds[1];
  EXPECT_EQ(std::get<DelayStep>(notify.steps[0].action).column, kFirstColumnSlot + 1);

  const Blueprint& any = file.kinds[2];
  EXPECT_EQ(any.name, "*");
  EXPECT_EQ(any.steps[0].name, "fetch");
  EXPECT_EQ(any.steps[1].name, "delay");
  EXPECT_EQ(any.steps[2].name, "emit");
  EXPECT_FALSE(std::get<EmitStep>(any.steps[2].action).text.has_value()) << "today's line";

  EXPECT_EQ(file.Find("ingest"), &ingest);
  EXPECT_EQ(file.Find("anything else"), &any);
}

TEST(BlueprintFileTest, WithoutAStarEntryAnUnknownTypeHasNoBlueprint) {
  const BlueprintFile file =
      ParseBlueprintFile("[types.a]\nsteps = [ { emit = \"x\" } ]\n", "kinds.toml");
  EXPECT_NE(file.Find("a"), nullptr);
  EXPECT_EQ(file.Find("b"), nullptr);
}

TEST(BlueprintFileTest, UnnamedStepsAreNamedAfterWhatTheyDo) {
  const BlueprintFile file = ParseBlueprintFile(
      "[types.a]\nsteps = [ { fetch = \"http://h/1\" }, { fetch = \"http://h/2\" }, "
      "{ name = \"fetch_3\", delay = \"1s\" }, { fetch = \"http://h/3\" } ]\n",
      "kinds.toml");
  const auto& steps = file.kinds[0].steps;
  EXPECT_EQ(steps[0].name, "fetch");
  EXPECT_EQ(steps[1].name, "fetch_2");
  EXPECT_EQ(steps[2].name, "fetch_3");
  EXPECT_EQ(steps[3].name, "fetch_4");
}

// A file that is not TOML: toml++'s own message, at its place.
TEST(BlueprintFileTest, ATomlSyntaxErrorIsTomlppsMessageAtItsPlace) {
  EXPECT_EQ(ErrorOf("[types.a]\nsteps = [\n"),
            "kinds.toml:2:11: Error while parsing array: encountered end-of-file");
  EXPECT_EQ(ErrorOf("[types.a]\nsteps = [ { emit = \"x\" } ]\n[types.a]\n"),
            "kinds.toml:3:1: Error while parsing table header: cannot redefine existing table "
            "'types.a'");
  // toml++ quotes the byte it saw: a control character is escaped (found by the fuzzer).
  EXPECT_EQ(ErrorOf(std::string("[types.a]\nsteps =i\x01\n")),
            "kinds.toml:2:9: Error while parsing floating-point: expected 'inf', saw 'i\\x01'");
  // toml++'s character tables reach __builtin_unreachable on U+00A1..U+0499 (found by the
  // fuzzer; UBSan stops the sanitizer build there): an error like any other.
  EXPECT_EQ(ErrorOf("a = 1\xc3\xa9\n"),
            "kinds.toml:1:6: Error while parsing decimal integer: expected digit, saw '\xc3\xa9'");
  // toml++ asserts an invariant this breaks (found by the fuzzer): an error, never an abort,
  // in the sanitizer builds (no NDEBUG) too.
  EXPECT_EQ(ErrorOf("[[[ty emitx\" = \" }\ns]]\n"),
            "kinds.toml:1:3: Error while parsing key: expected bare key starting character or "
            "string delimiter, saw '['");
}

TEST(BlueprintFileTest, EveryMistakeIsReportedAtFileLineColumn) {
  const std::string steps = "steps = [ { emit = \"\" } ]\n";
  // An unknown key, a typo.
  EXPECT_EQ(ErrorOf("[defaults]\ntimout = \"1s\"\n"),
            "kinds.toml:2:1: unknown key \"timout\" in [defaults] (known: timeout, "
            "connect_timeout, retries, retry_delay, max_body)");
  EXPECT_EQ(ErrorOf("[types.a]\n" + steps + "colums = {}\n"),
            "kinds.toml:3:1: unknown key \"colums\" in [types.a] (known: columns, steps, "
            "rate, max_running, max_running_per, on_start, on_success, on_failure)");
  EXPECT_EQ(ErrorOf("top = 1\n"),
            "kinds.toml:1:1: unknown key \"top\" at the top of the file (known: defaults, types)");
  // A value of the wrong type.
  EXPECT_EQ(ErrorOf("[defaults]\nretries = \"2\"\n"),
            "kinds.toml:2:11: retries must be an integer");
  EXPECT_EQ(ErrorOf("[defaults]\nretries = 101\n"), "kinds.toml:2:11: retries must be 0 to 100");
  // A duration that does not parse.
  EXPECT_EQ(ErrorOf("[defaults]\ntimeout = \"10 s\"\n"),
            "kinds.toml:2:11: timeout: \"10 s\" is not a duration (250ms, 1.5s, 5s, 1m, 2h)");
  EXPECT_EQ(ErrorOf("[defaults]\nretry_delay = \"11m\"\n"),
            "kinds.toml:2:15: retry_delay is at most 600s");
  EXPECT_EQ(ErrorOf("[defaults]\nmax_body = \"lots\"\n"),
            "kinds.toml:2:12: max_body: \"lots\" is not a size above 0 (512k, 10M, 1G)");
  // No steps, empty steps, too many steps.
  EXPECT_EQ(ErrorOf("[types.a]\ncolumns = {}\n"), "kinds.toml:1:1: [types.a] has no steps");
  EXPECT_EQ(ErrorOf("[types.a]\nsteps = []\n"), "kinds.toml:2:9: steps must not be empty");
  std::string many = "[types.a]\nsteps = [";
  for (int i = 0; i < 256; ++i) many += "{ emit = \"\" },";
  many += "]\n";
  EXPECT_EQ(ErrorOf(many), "kinds.toml:2:9: at most 255 steps, not 256");
  // A step that does nothing, or two things.
  EXPECT_EQ(ErrorOf("[types.a]\nsteps = [ { name = \"x\" } ]\n"),
            "kinds.toml:2:11: a step needs one of fetch, delay or emit");
  EXPECT_EQ(ErrorOf("[types.a]\nsteps = [ { emit = \"\", delay = \"1s\" } ]\n"),
            "kinds.toml:2:24: a step does one thing: fetch, delay or emit, not two");
  // Duplicate step names.
  EXPECT_EQ(ErrorOf("[types.a]\nsteps = [ { name = \"s\", emit = \"\" }, { name = \"s\", "
                    "emit = \"\" } ]\n"),
            "kinds.toml:2:38: two steps named \"s\" in [types.a]");
  // An unknown method, a status that is none, a column type that is none.
  EXPECT_EQ(ErrorOf("[types.a]\nsteps = [ { fetch = { url = \"http://h/\", method = \"GETT\" } "
                    "} ]\n"),
            "kinds.toml:2:51: unknown method \"GETT\" (known: GET, HEAD, POST, PUT, PATCH, "
            "DELETE)");
  EXPECT_EQ(ErrorOf("[types.a]\nsteps = [ { fetch = { url = \"http://h/\", expect = [200, 99] "
                    "} } ]\n"),
            "kinds.toml:2:57: 99 is not an HTTP status (100 to 599)");
  EXPECT_EQ(ErrorOf("[types.a]\ncolumns = { n = \"u31\" }\n" + steps),
            "kinds.toml:2:17: column n: unknown type \"u31\" (known: string, u32, u64, i32, i64, "
            "f32, f64, bool, duration, bytes, json)");
  // A fetch table without a url, an unknown key in it.
  EXPECT_EQ(ErrorOf("[types.a]\nsteps = [ { fetch = { method = \"GET\" } } ]\n"),
            "kinds.toml:2:21: fetch needs a url");
  EXPECT_EQ(ErrorOf("[types.a]\nsteps = [ { fetch = { url = \"http://h/\", bodyy = \"\" } } ]\n"),
            "kinds.toml:2:42: unknown key \"bodyy\" in fetch (known: url, method, headers, body, "
            "expect, capture, save, timeout, connect_timeout, retries, retry_delay, max_body)");
  // A webhook takes no body: it is ours.
  EXPECT_EQ(
      ErrorOf("[types.a]\n" + steps + "on_start = [ { url = \"http://h/\", body = \"x\" } ]\n"),
      "kinds.toml:3:35: unknown key \"body\" in on_start (known: url, method, headers, "
      "timeout, connect_timeout, retries, retry_delay, max_body)");
}

TEST(BlueprintFileTest, APlaceholderMustNameAColumnOfItsType) {
  EXPECT_EQ(ErrorOf("[types.a]\ncolumns = { region = \"string\" }\nsteps = [ { fetch = "
                    "\"http://h/{regoin}\" } ]\n")
                .substr(0, 20),
            "kinds.toml:3:21: unk");
  // The same name declared by another type does not count.
  const std::string error = ErrorOf(
      "[types.a]\ncolumns = { region = \"string\" }\nsteps = [ { emit = \"{region}\" } ]\n"
      "[types.b]\nsteps = [ { emit = \"{region}\" } ]\n");
  EXPECT_TRUE(error.starts_with("kinds.toml:5:20: ")) << error;
  EXPECT_NE(error.find("region"), std::string::npos) << error;
  // A delay from a column must name one.
  EXPECT_EQ(ErrorOf("[types.a]\nsteps = [ { delay = \"{wait}\" } ]\n"),
            "kinds.toml:2:21: delay {wait} names no column of this type");
  EXPECT_EQ(
      ErrorOf("[types.a]\ncolumns = { wait = \"u32\" }\nsteps = [ { delay = \"{wait}\" } ]\n"),
      "kinds.toml:3:21: delay {wait}: the column is not of type duration");
  EXPECT_EQ(ErrorOf("[types.a]\ncolumns = { task_id = \"u64\" }\n" +
                    std::string("steps = [ { emit = \"\" } ]\n")),
            "kinds.toml:2:13: task_id is always there; it is no column to declare");
  // The dependency columns (issue #11) are the reader's too.
  EXPECT_EQ(ErrorOf("[types.a]\ncolumns = { region = \"string\", depends_on = \"string\" }\n" +
                    std::string("steps = [ { emit = \"\" } ]\n")),
            "kinds.toml:2:32: depends_on names a task's dependencies in the tasks CSV; it is no "
            "column to declare");
  EXPECT_EQ(ErrorOf("[types.b]\nsteps = [ { emit = \"\" } ]\ncolumns.after = \"u64\"\n"),
            "kinds.toml:3:9: after names a task's dependencies in the tasks CSV; it is no column "
            "to declare");
}

// A setting comes from the step, else the command line, else [defaults], else built in.
TEST(BlueprintFileTest, SettingsTakeTheStepThenTheCommandLineThenDefaults) {
  const std::string text =
      "[defaults]\ntimeout = \"3s\"\nretries = 5\n"
      "[types.a]\nsteps = [ { fetch = { url = \"http://h/\", retries = 1 } }, "
      "{ fetch = \"http://h/2\" } ]\n";
  const FetchSettings command_line{.timeout = Duration(7'000),
                                   .connect_timeout = std::nullopt,
                                   .retries = std::nullopt,
                                   .retry_delay = std::nullopt,
                                   .max_body = std::nullopt};
  const BlueprintFile file = ParseBlueprintFile(text, "kinds.toml", command_line);
  const auto& first = std::get<FetchStep>(file.kinds[0].steps[0].action);
  const auto& second = std::get<FetchStep>(file.kinds[0].steps[1].action);
  EXPECT_EQ(first.retry.max_retries, 1) << "the step's";
  EXPECT_EQ(second.retry.max_retries, 5) << "[defaults]";
  EXPECT_EQ(first.timeout, Duration(7'000)) << "the command line beats [defaults]";
  EXPECT_EQ(second.retry.base_delay, Duration(1'000)) << "built in";
  const BlueprintFile without = ParseBlueprintFile(text, "kinds.toml");
  EXPECT_EQ(std::get<FetchStep>(without.kinds[0].steps[0].action).timeout, Duration(3'000));
}

// Webhooks: POST unless they say, templated URLs and headers, settings as for a fetch.
TEST(BlueprintFileTest, WebhooksAreReadWithTheirSettings) {
  const BlueprintFile file = ParseBlueprintFile(
      "[defaults]\nretries = 4\n"
      "[types.a]\ncolumns = { region = \"string\" }\nsteps = [ { emit = \"\" } ]\n"
      "on_start = [ { url = \"http://h/start/{task_id}\" } ]\n"
      "on_success = [ { url = \"http://h/ok?r={region}\", headers = { X-Key = \"k\" } },\n"
      "               { url = \"http://h/also\", method = \"PUT\", timeout = \"2s\" } ]\n"
      "on_failure = [ { url = \"http://h/failed\", retries = 0 } ]\n",
      "kinds.toml");
  const Blueprint& kind = file.kinds[0];
  ASSERT_EQ(kind.on_start.size(), 1u);
  ASSERT_EQ(kind.on_success.size(), 2u);
  ASSERT_EQ(kind.on_failure.size(), 1u);
  EXPECT_EQ(kind.on_start[0].method, HttpMethod::kPost);
  EXPECT_TRUE(kind.on_start[0].url.has_placeholders());
  EXPECT_EQ(kind.on_success[0].headers.at(0).name, "X-Key");
  EXPECT_EQ(kind.on_success[1].method, HttpMethod::kPut);
  EXPECT_EQ(kind.on_success[1].timeout, Duration(2'000));
  EXPECT_EQ(kind.on_success[0].retry.max_retries, 4) << "[defaults]";
  EXPECT_EQ(kind.on_failure[0].retry.max_retries, 0) << "its own";
}

TEST(BlueprintFileTest, WebhookErrorsHaveTheirPosition) {
  const std::string steps = "steps = [ { emit = \"\" } ]\n";
  EXPECT_EQ(ErrorOf("[types.a]\n" + steps + "on_success = [ { method = \"PUT\" } ]\n"),
            "kinds.toml:3:16: on_success needs a url");
  EXPECT_EQ(ErrorOf("[types.a]\n" + steps + "on_failure = { url = \"http://h/\" }\n"),
            "kinds.toml:3:14: on_failure must be a list of webhooks, like [ { url = \"...\" } ]");
  EXPECT_EQ(ErrorOf("[types.a]\n" + steps + "on_start = [ { url = \"http://h/{nope}\" } ]\n"),
            "kinds.toml:3:22: unknown name \"nope\" in {nope} (known: task_id, task_type) in "
            "\"http://h/{nope}\"");
  std::string many = "[types.a]\n" + steps + "on_start = [";
  for (int i = 0; i < 17; ++i) many += " { url = \"http://h/\" },";
  many += " ]\n";
  EXPECT_EQ(ErrorOf(many), "kinds.toml:3:12: at most 16 webhooks in on_start, not 17");
}

// curl's habits in the file too: a method in any case, a URL without a scheme is http.
TEST(BlueprintFileTest, MethodsInAnyCaseAndUrlsWithoutAScheme) {
  const BlueprintFile file = ParseBlueprintFile(
      "[types.a]\nsteps = [ { fetch = { url = \"127.0.0.1:8080/a/{task_id}\", method = "
      "\"put\" } },\n  { fetch = \"localhost/b\" } ]\n"
      "on_start = [ { url = \"h:81/start\", method = \"Patch\" } ]\n"
      "on_success = [ { url = \"{task_type:raw}/x\" } ]\n",
      "kinds.toml");
  const Blueprint& kind = file.kinds[0];
  const auto& first = std::get<FetchStep>(kind.steps.at(0).action);
  EXPECT_EQ(first.method, HttpMethod::kPut);
  EXPECT_EQ(Expand(first.url, kind), "http://127.0.0.1:8080/a/7");
  EXPECT_EQ(Expand(std::get<FetchStep>(kind.steps.at(1).action).url, kind), "http://localhost/b");
  EXPECT_EQ(kind.on_start.at(0).method, HttpMethod::kPatch);
  EXPECT_EQ(Expand(kind.on_start.at(0).url, kind), "http://h:81/start");
  EXPECT_EQ(Expand(kind.on_success.at(0).url, kind), "t/x") << "a value decides no scheme";
}

// A header name is checked as -H checks it, when the file is read: not by every task.
TEST(BlueprintFileTest, ABadHeaderNameIsAnErrorAtItsPlace) {
  EXPECT_EQ(ErrorOf("[types.a]\nsteps = [ { fetch = { url = \"http://h/\", headers = { \"X Bad\" "
                    "= \"v\" } } } ]\n"),
            "kinds.toml:2:54: header \"X Bad\" has an invalid name (letters, digits and "
            "!#$%&'*+-.^_`|~)");
  EXPECT_EQ(ErrorOf("[types.a]\nsteps = [ { emit = \"\" } ]\n"
                    "on_start = [ { url = \"http://h/\", headers = { \"\" = \"v\" } } ]\n"),
            "kinds.toml:3:47: header \"\" has an invalid name (letters, digits and "
            "!#$%&'*+-.^_`|~)");
}

TEST(BlueprintFileTest, NoTypesIsAnError) {
  EXPECT_EQ(ErrorOf("[defaults]\nretries = 1\n"),
            "kinds.toml:1:1: no task types: the file needs a [types.NAME] table");
}

TEST(BlueprintFileTest, RunningLimitsPerType) {
  const BlueprintFile file = ParseBlueprintFile(
      "[types.a]\ncolumns = { tenant = \"string\" }\nsteps = [ { emit = \"\" } ]\n"
      "max_running = 5\nmax_running_per = { column = \"tenant\", limit = 3 }\n"
      "[types.b]\nsteps = [ { emit = \"\" } ]\n",
      "kinds.toml");
  ASSERT_EQ(file.limits.size(), 2u);
  EXPECT_EQ(file.limits[0].text, "a=5");
  EXPECT_EQ(file.limits[1].text, "a[tenant]=3");
  EXPECT_EQ(file.limits[1].column, "tenant");
  EXPECT_EQ(file.limits[1].max, 3u);
  const std::string steps = "steps = [ { emit = \"\" } ]\n";
  EXPECT_EQ(ParseBlueprintFile("[types.a]\nrate = \"120/m\"\n" + steps, "kinds.toml").kinds[0].rate,
            2.0);
  EXPECT_EQ(ErrorOf("[types.a]\n" + steps + "rate = \"fast\"\n"),
            "kinds.toml:3:8: rate \"fast\": expected starts per second, minute or hour above 0, "
            "like 200/s, 6000/m, 3/h or 50");
  EXPECT_EQ(ErrorOf("[types.a]\n" + steps + "max_running = 0\n"),
            "kinds.toml:3:15: max_running must be at least 1");
  EXPECT_EQ(ErrorOf("[types.a]\n" + steps + "max_running_per = { column = \"x\", limit = 2 }\n"),
            "kinds.toml:3:30: max_running_per: \"x\" is no column of [types.a]");
  EXPECT_EQ(ErrorOf("[types.a]\n" + steps + "max_running_per = { limit = 2 }\n"),
            "kinds.toml:3:19: max_running_per needs a column and a limit, like { column = "
            "\"tenant\", limit = 3 }");
  EXPECT_EQ(ErrorOf("[types.\"*\"]\n" + steps + "max_running = 2\n"),
            "kinds.toml:3:1: max_running cannot be set for [types.\"*\"]: say --limit 'TYPE=N' "
            "for a type, or '*=N' for every type");
}

// {dep.NAME} and {deps.NAME} name a capture of any type, one declared further down too.
TEST(BlueprintFileTest, ATemplateMayNameADependencysCaptureOfAnyType) {
  const BlueprintFile file = ParseBlueprintFile(
      "[types.order]\n"
      "steps = [ { fetch = { url = \"http://h/{dep.price}/{dep.sku}/{dep.price}\", body = "
      "\"{deps.sku:json}\" } } ]\n"
      "[types.item]\n"
      "steps = [ { fetch = { url = \"http://h/{task_id}\", capture = { sku = \"json:/sku\", price "
      "= \"json:/price\" } } } ]\n",
      "kinds.toml");
  EXPECT_EQ(file.capture_columns, (std::vector<std::string>{"sku", "price"}));
  const Blueprint& order = file.kinds[0];
  EXPECT_TRUE(order.uses_dependency_values);
  ASSERT_EQ(order.dependency_columns.size(), 2u) << "each once";
  EXPECT_EQ(order.dependency_columns[0].column, 1u);
  EXPECT_EQ(order.dependency_columns[0].name, "price");
  EXPECT_EQ(order.dependency_columns[1].name, "sku");
  EXPECT_FALSE(file.kinds[1].uses_dependency_values);
  EXPECT_EQ(ErrorOf("[types.a]\nsteps = [ { fetch = \"http://h/{dep.nope}\" } ]\n"),
            "kinds.toml:2:21: unknown name \"dep.nope\" in {dep.nope} (known: task_id, task_type) "
            "in \"http://h/{dep.nope}\"");
}

}  // namespace
}  // namespace orchestrator

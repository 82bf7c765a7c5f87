#include "orchestrator/capture.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "orchestrator/capture_store.h"
#include "orchestrator/captured_values.h"

namespace orchestrator {
namespace {

CaptureSpec SpecOf(std::string_view text) {
  auto parsed = CaptureSpec::Parse(text);
  if (auto* error = std::get_if<CaptureSpec::Error>(&parsed)) {
    ADD_FAILURE() << text << ": " << error->message;
    return {};
  }
  return std::get<CaptureSpec>(std::move(parsed));
}

CaptureSpec::Error ErrorOf(std::string_view text) {
  auto parsed = CaptureSpec::Parse(text);
  if (auto* error = std::get_if<CaptureSpec::Error>(&parsed)) return *error;
  ADD_FAILURE() << text << " parsed";
  return {};
}

TEST(CaptureSpecTest, ReadsEachSource) {
  EXPECT_EQ(SpecOf("status").source(), CaptureSource::kStatus);
  EXPECT_EQ(SpecOf("url").source(), CaptureSource::kUrl);
  EXPECT_EQ(SpecOf("time").source(), CaptureSource::kTime);
  EXPECT_EQ(SpecOf("body").source(), CaptureSource::kBody);
  EXPECT_EQ(SpecOf("size").source(), CaptureSource::kSize);
  EXPECT_EQ(SpecOf("sha256").source(), CaptureSource::kSha256);
  const CaptureSpec header = SpecOf("header:ETag");
  EXPECT_EQ(header.source(), CaptureSource::kHeader);
  EXPECT_EQ(header.argument(), "ETag");
  const CaptureSpec json = SpecOf("json:/data/price?");
  EXPECT_EQ(json.source(), CaptureSource::kJson);
  EXPECT_EQ(json.argument(), "/data/price");
  EXPECT_TRUE(json.optional());
  EXPECT_FALSE(SpecOf("json:/data/price").optional());
  EXPECT_EQ(SpecOf("json:").argument(), "");  // the whole document
  const CaptureSpec regex = SpecOf("regex:id=(\\d+)");
  EXPECT_EQ(regex.source(), CaptureSource::kRegex);
  ASSERT_NE(regex.regex(), nullptr);
  EXPECT_TRUE(regex.needs_body());
  EXPECT_FALSE(header.needs_body());
}

TEST(CaptureSpecTest, SaysWhatIsWrongAndWhere) {
  EXPECT_EQ(ErrorOf("price").message,
            "\"price\" is not a capture: it is status, url, time, header:NAME, json:POINTER, "
            "regex:PATTERN, body, size or sha256");
  EXPECT_EQ(ErrorOf("status:200").offset, 6u);
  EXPECT_EQ(ErrorOf("header").message, "header needs what it takes: header:...");
  EXPECT_EQ(ErrorOf("header:Bad Name").offset, 7u);
  EXPECT_EQ(ErrorOf("json:data/price").message,
            "a JSON Pointer starts with \"/\" (json:/data/price)");
  const CaptureSpec::Error tilde = ErrorOf("json:/a~2b");
  EXPECT_EQ(tilde.offset, 7u);
  const CaptureSpec::Error regex = ErrorOf("regex:(unclosed");
  EXPECT_EQ(regex.offset, 6u);
  EXPECT_NE(regex.message.find("not a pattern RE2 reads: missing )"), std::string::npos)
      << regex.message;
  EXPECT_EQ(ErrorOf("regex:").message, "the pattern is empty");
  // Backreferences would need backtracking: RE2 refuses them, so no body can make a match slow.
  EXPECT_NE(ErrorOf("regex:(a)\\1").message.find("RE2"), std::string::npos);
}

TEST(CaptureNameTest, LettersDigitsAndUnderscoreNotTheRowsOwnColumns) {
  EXPECT_FALSE(CaptureNameProblem("price"));
  EXPECT_FALSE(CaptureNameProblem("_etag2"));
  EXPECT_TRUE(CaptureNameProblem("2price"));
  EXPECT_TRUE(CaptureNameProblem("the-price"));
  EXPECT_TRUE(CaptureNameProblem(""));
  EXPECT_EQ(CaptureNameProblem("error_info"), "error_info is a column of every result row already");
  EXPECT_TRUE(CaptureNameProblem("task_id"));
  EXPECT_TRUE(CaptureNameProblem("final_status"));
}

std::vector<Capture> CapturesOf(
    std::initializer_list<std::pair<std::string_view, std::string_view>> specs) {
  std::vector<Capture> captures;
  for (const auto& [name, spec] : specs) {
    captures.push_back({std::string(name), SpecOf(spec), captures.size()});
  }
  return captures;
}

FetchResult Response(std::string body) {
  FetchResult result;
  result.http_status = 200;
  result.response.size = body.size();
  result.response.body = std::move(body);
  result.response.time = std::chrono::microseconds(12'345);
  return result;
}

// The values in column order, "-" for one not captured.
std::string Cells(const CapturedValues& values, std::size_t columns) {
  std::string cells;
  for (std::size_t column = 0; column < columns; ++column) {
    if (column > 0) cells += '|';
    const auto value = values.Find(column);
    cells += value ? std::string(*value) : "-";
  }
  return cells;
}

TEST(TakeCapturesTest, TakesStatusTimeSizeHeaderUrlAndDigestAsTheEngineKeptThem) {
  const auto captures = CapturesOf({{"status", "status"},
                                    {"ms", "time"},
                                    {"bytes", "size"},
                                    {"etag", "header:etag"},
                                    {"where", "url"},
                                    {"digest", "sha256"}});
  const ResponseParts parts = PartsFor(captures, 100);
  EXPECT_FALSE(parts.body);  // none of them reads it
  EXPECT_TRUE(parts.sha256);
  EXPECT_TRUE(parts.url);
  ASSERT_EQ(parts.headers, std::vector<std::string>{"etag"});
  FetchResult result = Response("");
  result.response.size = 42;
  result.response.headers = {"\"v1\""};
  result.response.url = "http://127.0.0.1/item/7";
  result.response.sha256 = "ab12";
  CapturedValues values;
  EXPECT_EQ(TakeCaptures(captures, parts, result, values), std::nullopt);
  EXPECT_EQ(Cells(values, 6), "200|12.345|42|\"v1\"|http://127.0.0.1/item/7|ab12");
}

TEST(TakeCapturesTest, JsonPointerGivesStringsAsTextAndTheRestAsCompactJson) {
  const auto captures = CapturesOf({{"sku", "json:/sku"},
                                    {"price", "json:/price"},
                                    {"tags", "json:/tags"},
                                    {"first", "json:/tags/0"},
                                    {"owner", "json:/data/owner"},
                                    {"slash", "json:/a~1b"},
                                    {"all", "json:/data"},
                                    {"numbers", "json:/n"}});
  const ResponseParts parts = PartsFor(captures, 1 << 20);
  EXPECT_TRUE(parts.body);
  CapturedValues values;
  EXPECT_EQ(
      TakeCaptures(captures, parts, Response(R"({"sku": "s-1", "price": 12.5, "tags": ["a", "b"],
                                      "data": {"owner": null}, "a/b": true,
                                      "n": [24.5, 1e300, -0.125, 31, 18446744073709551615]})"),
                   values),
      std::nullopt);
  // Doubles as people write them (Boost.JSON 1.81 would say 2.45E1), integers as they are.
  EXPECT_EQ(Cells(values, 8), R"(s-1|12.5|["a","b"]|a|null|true|{"owner":null}|)"
                              R"([24.5,1e+300,-0.125,31,18446744073709551615])");
}

TEST(TakeCapturesTest, AMissingValueFailsTheTaskUnlessTheCaptureIsOptional) {
  const std::string body = R"({"data": {"n": 1}})";
  {
    const auto captures = CapturesOf({{"price", "json:/data/price"}});
    CapturedValues values;
    EXPECT_EQ(TakeCaptures(captures, PartsFor(captures, 1000), Response(body), values),
              "capture price: /data/price is not in the body");
  }
  {
    const auto captures = CapturesOf({{"price", "json:/data/price?"}, {"n", "json:/data/n"}});
    CapturedValues values;
    EXPECT_EQ(TakeCaptures(captures, PartsFor(captures, 1000), Response(body), values),
              std::nullopt);
    EXPECT_EQ(Cells(values, 2), "|1");  // captured as empty, not left out
  }
  {
    const auto captures = CapturesOf({{"etag", "header:ETag"}});
    CapturedValues values;
    EXPECT_EQ(TakeCaptures(captures, PartsFor(captures, 1000), Response(body), values),
              "capture etag: no ETag header in the response");
  }
  {
    const auto captures = CapturesOf({{"id", "regex:id=(\\d+)"}});
    CapturedValues values;
    EXPECT_EQ(TakeCaptures(captures, PartsFor(captures, 1000), Response(body), values),
              "capture id: the pattern does not match the body");
  }
}

TEST(TakeCapturesTest, ABodyThatIsNotJsonOrTooLargeFailsEvenAnOptionalCapture) {
  const auto captures = CapturesOf({{"price", "json:/price?"}});
  const ResponseParts parts = PartsFor(captures, 1000);
  CapturedValues values;
  const auto not_json = TakeCaptures(captures, parts, Response("<html>"), values);
  ASSERT_TRUE(not_json);
  EXPECT_TRUE(not_json->starts_with("capture price: the body is not JSON")) << *not_json;
  FetchResult large = Response("");
  large.response.size = 5000;
  large.response.body_over_limit = true;
  EXPECT_EQ(TakeCaptures(captures, parts, large, values),
            "capture price: the body (5000 bytes) is larger than the 1000 bytes a capture may read "
            "(--max-body)");
}

TEST(TakeCapturesTest, RegexTakesTheFirstGroupOrTheWholeMatch) {
  const auto captures = CapturesOf({{"id", "regex:id=(\\d+)"}, {"word", "regex:[a-z]+"}});
  CapturedValues values;
  EXPECT_EQ(TakeCaptures(captures, PartsFor(captures, 1000), Response("ID: id=42; id=43"), values),
            std::nullopt);
  EXPECT_EQ(Cells(values, 2), "42|id");
}

TEST(TakeCapturesTest, AHostileBodyReachesNoCellAsControlCharactersOrInvalidUtf8) {
  const auto captures = CapturesOf({{"text", "body"}, {"part", "regex:A(.\\[\\d+m)red"}});
  CapturedValues values;
  const std::string body = "l1\r\nA\x1b[31mred\xc2\x9b\xff\tend\n\xe2\x80\xae";
  EXPECT_EQ(TakeCaptures(captures, PartsFor(captures, 1000), Response(body), values), std::nullopt);
  const std::string r = "\xEF\xBF\xBD";  // U+FFFD
  EXPECT_EQ(*values.Find(0), "l1" + r + r + "A" + r + "[31mred" + r + r + r + "end" + r + r);
  EXPECT_EQ(values.Find(1), r + "[31m");
}

TEST(TakeCapturesTest, AHugeBodyAgainstACostlyLookingPatternStaysLinear) {
  // (a+)+$ on "aaaa...b" is catastrophic for a backtracking engine; RE2 is linear.
  const auto captures = CapturesOf({{"x", "regex:(a+)+$?"}});
  CapturedValues values;
  const std::string body = std::string(1 << 20, 'a') + "b";
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(TakeCaptures(captures, PartsFor(captures, 2 << 20), Response(body), values),
            std::nullopt);
  EXPECT_EQ(*values.Find(0), "");  // no match, optional
  // Not a timing test of ours: a backtracking engine would take longer than the universe.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
}

// Which values are JSON text: "j" for CapturedAs::kJson, "t" for text, "-" for none.
std::string Kinds(const CapturedValues& values, std::size_t columns) {
  std::string kinds;
  for (std::size_t column = 0; column < columns; ++column) {
    const std::optional<CapturedValue> value = values.FindValue(column);
    kinds += !value ? '-' : value->json() ? 'j' : 't';
  }
  return kinds;
}

TEST(TakeCapturesTest, NumbersAndJsonOtherThanStringsAreJsonTheRestText) {
  const auto captures = CapturesOf({{"status", "status"},
                                    {"ms", "time"},
                                    {"bytes", "size"},
                                    {"where", "url"},
                                    {"digest", "sha256"},
                                    {"price", "json:/price"},
                                    {"sku", "json:/sku"},
                                    {"tags", "json:/tags"},
                                    {"none", "json:/none"},
                                    {"n", "regex:\"n\":(\\d+)"},
                                    {"whole", "body"},
                                    {"absent", "json:/absent?"}});
  const ResponseParts parts = PartsFor(captures, 1000);
  CapturedValues values;
  EXPECT_EQ(
      TakeCaptures(captures, parts,
                   Response(R"({"price":24.5,"sku":"12","tags":["a"],"none":null,"n":3})"), values),
      std::nullopt);
  EXPECT_EQ(Kinds(values, 12), "jjjttjtjjttt");
  EXPECT_EQ(*values.Find(5), "24.5");
  EXPECT_EQ(*values.Find(6), "12");  // the string "12": text
}

TEST(CapturedValuesTest, KeepsEachColumnOnceTheLastValueWinning) {
  CapturedValues values;
  EXPECT_TRUE(values.empty());
  values.Set(2, "two");
  values.Set(0, "");
  values.Set(2, "TWO");
  EXPECT_EQ(values.Find(2), "TWO");
  EXPECT_EQ(values.Find(0), "");
  EXPECT_EQ(values.Find(1), std::nullopt);
  std::vector<std::string> seen;
  values.ForEach([&](std::size_t column, std::string_view value) {
    seen.push_back(std::to_string(column) + "=" + std::string(value));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"0=", "2=TWO"}));
  EXPECT_EQ(CapturedValues::FromPacked(values.packed()), values);
  // What a value is rides in its column field's top bit: no byte more, and it is replaced with
  // the value.
  const std::size_t bytes = values.bytes();
  values.Set(2, "200", CapturedAs::kJson);
  EXPECT_EQ(values.bytes(), bytes);
  EXPECT_EQ(values.FindValue(2), (CapturedValue{"200", CapturedAs::kJson}));
  EXPECT_EQ(values.Find(2), "200");
  values.Set(2, "two");
  EXPECT_EQ(values.FindValue(2), (CapturedValue{"two", CapturedAs::kText}));
  values.Set(CapturedValues::kMaxColumns - 1, "1", CapturedAs::kJson);
  EXPECT_EQ(values.FindValue(CapturedValues::kMaxColumns - 1),
            (CapturedValue{"1", CapturedAs::kJson}));
  EXPECT_EQ(values.Find(CapturedValues::kMaxColumns - 1 - (std::size_t{1} << 30)), std::nullopt);
  EXPECT_THROW(values.Set(CapturedValues::kMaxColumns, "x"), std::length_error);
}

TEST(CaptureStoreTest, KeepsEachTasksValuesUntilTakenAndReusesTheSpace) {
  CaptureStore store(1000);
  CapturedValues one;
  one.Set(0, "200");
  for (TaskIndex task = 0; task < 1000; ++task) store.Add(task, one);
  CapturedValues more;
  more.Set(1, "etag-7");
  store.Add(7, more);
  EXPECT_EQ(Cells(store.Take(7), 2), "200|etag-7");
  EXPECT_TRUE(store.Take(7).empty());  // taken once
  EXPECT_EQ(Cells(store.Take(8), 2), "200|-");
  for (TaskIndex task = 0; task < 1000; ++task) store.Take(task);
  EXPECT_EQ(store.arena_bytes(), 0u);  // all taken: the arena starts over
  // A long run of tasks that each capture and end keeps the arena bounded by the live ones.
  CapturedValues big;
  big.Set(0, std::string(1000, 'x'));
  for (int round = 0; round < 5000; ++round) {
    store.Add(static_cast<TaskIndex>(round % 1000), big);
    if (round >= 10) store.Take(static_cast<TaskIndex>((round - 10) % 1000));
  }
  EXPECT_LT(store.arena_bytes(), 3u << 20);
  EXPECT_EQ(store.Take(4999 % 1000).Find(0)->size(), 1000u);
}

TEST(CaptureStoreTest, CarriesWhetherAValueIsJson) {
  CaptureStore store(2);
  CapturedValues first;
  first.Set(0, "200", CapturedAs::kJson);
  store.Add(1, first);
  CapturedValues later;
  later.Set(1, "sku-1");
  later.Set(2, "[1,2]", CapturedAs::kJson);
  store.Add(1, later);
  const CapturedValues taken = store.Take(1);
  EXPECT_EQ(Kinds(taken, 3), "jtj");
  EXPECT_EQ(Cells(taken, 3), "200|sku-1|[1,2]");
}

TEST(CaptureStoreTest, WithoutCapturesKeepsNothing) {
  CaptureStore store;
  EXPECT_TRUE(store.Take(5).empty());
}

}  // namespace
}  // namespace orchestrator

#include "orchestrator/template.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Under AddressSanitizer the allocator can tell us about every allocation (see
// ExpandAllocatesNothingButOut). The hook counts only while a test asks it to.
#if defined(__SANITIZE_ADDRESS__)
#define TEMPLATE_TEST_COUNTS_ALLOCATIONS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEMPLATE_TEST_COUNTS_ALLOCATIONS 1
#endif
#endif

#ifdef TEMPLATE_TEST_COUNTS_ALLOCATIONS
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*,
                                                                             std::size_t),
                                                         void (*free_hook)(const volatile void*));
#endif

namespace orchestrator {
namespace {

using Context = TemplateContext;

#ifdef TEMPLATE_TEST_COUNTS_ALLOCATIONS
thread_local bool counting = false;
thread_local std::size_t allocations = 0;
void CountMalloc(const volatile void*, std::size_t) {
  if (counting) ++allocations;
}
void IgnoreFree(const volatile void*) {}
#endif

// The slots a task type with these columns would have: task_id 0, task_type 1, then columns.
constexpr std::size_t kTaskId = 0, kTaskType = 1, kRegion = 2, kSize = 3, kRatio = 4, kFlag = 5,
                      kWait = 6, kUserId = 7;

std::optional<std::size_t> Resolve(std::string_view name) {
  static const std::vector<std::string_view> kNames = {"task_id", "task_type", "region", "size",
                                                       "ratio",   "flag",      "wait",   "user-id"};
  for (std::size_t slot = 0; slot < kNames.size(); ++slot) {
    if (kNames[slot] == name) return slot;
  }
  return std::nullopt;
}

// One task's values, by slot.
struct Row {
  std::vector<TemplateValue> values = {
      {ColumnType::kU64, "101"},       {ColumnType::kString, "fetch"}, {ColumnType::kString, "eu"},
      {ColumnType::kU32, "42"},        {ColumnType::kF64, "0.5"},      {ColumnType::kBool, "true"},
      {ColumnType::kDuration, "1.5s"}, {ColumnType::kString, "u7"},
  };
  Row& Set(std::size_t slot, std::string_view text) {
    values[slot].text = text;
    return *this;
  }
  Row& Set(std::size_t slot, ColumnType type, std::string_view text) {
    values[slot] = {type, text};
    return *this;
  }
};

Template MustParse(std::string_view text, Context context) {
  auto parsed = Template::Parse(text, context, Resolve);
  if (const auto* error = std::get_if<Template::Error>(&parsed)) {
    ADD_FAILURE() << "Parse(\"" << text << "\") failed at " << error->offset << ": "
                  << error->message;
    return Template();
  }
  return std::get<Template>(std::move(parsed));
}

Template::Error MustFail(std::string_view text, Context context = Context::kBody) {
  auto parsed = Template::Parse(text, context, Resolve);
  if (auto* error = std::get_if<Template::Error>(&parsed)) return *error;
  ADD_FAILURE() << "Parse(\"" << text << "\") succeeded";
  return {};
}

// A template with escapes ("{{" somewhere): braces that are not a placeholder's are errors
// there. "{{}}" in front, four bytes, is a literal "{}".
constexpr std::size_t kEscapes = 4;
Template::Error MustFailEscaped(std::string_view text) {
  Template::Error error = MustFail("{{}}" + std::string(text));
  error.offset -= kEscapes;
  return error;
}

// The expansion, or "ERROR: message".
std::string Expand(std::string_view text, Context context, const Row& row = Row()) {
  const Template tmpl = MustParse(text, context);
  std::string out, error;
  if (!tmpl.ExpandTo(
          out, [&](std::size_t slot) { return row.values.at(slot); }, error)) {
    EXPECT_EQ(out, "") << "a failed expansion left output behind";
    return "ERROR: " + error;
  }
  EXPECT_EQ(error, "");
  return out;
}

// --- syntax ------------------------------------------------------------------------------

TEST(TemplateTest, ReplacesPlaceholdersWithTheirValues) {
  EXPECT_EQ(Expand("/{region}/items/{task_id}?n={size}", Context::kBody), "/eu/items/101?n=42");
  EXPECT_EQ(Expand("{task_type}{region}", Context::kBody), "fetcheu");
  EXPECT_EQ(Expand("{region:raw}", Context::kBody), "eu");
}

TEST(TemplateTest, CallsValueWithTheSlotResolveGave) {
  auto parsed = Template::Parse("{b}-{a}-{b}", Context::kBody, [](std::string_view name) {
    return std::optional<std::size_t>(name == "a" ? 40 : 41);
  });
  const Template& tmpl = std::get<Template>(parsed);
  std::vector<std::size_t> asked;
  std::string out, error;
  ASSERT_TRUE(tmpl.ExpandTo(
      out,
      [&](std::size_t slot) {
        asked.push_back(slot);
        return TemplateValue{ColumnType::kString, slot == 40 ? "A" : "B"};
      },
      error));
  EXPECT_EQ(out, "B-A-B");
  EXPECT_EQ(asked, (std::vector<std::size_t>{41, 40, 41}));
}

TEST(TemplateTest, DoubledBracesAreLiteralBraces) {
  EXPECT_EQ(Expand("{{region}}", Context::kBody), "{region}");
  EXPECT_EQ(Expand("{{{region}}}", Context::kBody), "{eu}");
  EXPECT_EQ(Expand("}}{{", Context::kText), "}{");
  EXPECT_EQ(Expand(R"({{"id": {task_id:json}, "region": {region:json}}})", Context::kBody),
            R"({"id": 101, "region": "eu"})");
}

TEST(TemplateTest, TextWithoutPlaceholdersExpandsToItself) {
  for (const Context context : {Context::kUrl, Context::kHeader, Context::kBody, Context::kText}) {
    const std::string text = "https://example.com/a b?c=%20&d=\xc3\xa9";
    const Template tmpl = MustParse(text, context);
    EXPECT_FALSE(tmpl.has_placeholders());
    EXPECT_EQ(tmpl.source(), text);
    EXPECT_EQ(tmpl.context(), context);
    EXPECT_EQ(Expand(text, context), text);
  }
  EXPECT_TRUE(MustParse("{region}", Context::kUrl).has_placeholders());
  EXPECT_EQ(MustParse("{{x}}", Context::kUrl).source(), "{{x}}");
  EXPECT_EQ(Expand("", Context::kBody), "");
}

TEST(TemplateTest, ExpandAppendsToOut) {
  const Template tmpl = MustParse("/{region}", Context::kUrl);
  std::string out = "GET ", error;
  ASSERT_TRUE(tmpl.ExpandTo(
      out,
      [](std::size_t) {
        return TemplateValue{ColumnType::kString, "a b"};
      },
      error));
  EXPECT_EQ(out, "GET /a%20b");
}

TEST(TemplateTest, NamesHaveLettersDigitsUnderscoresAndDashes) {
  EXPECT_EQ(Expand("{user-id}", Context::kBody), "u7");
  auto parsed = Template::Parse("{_a-1_B}", Context::kBody, [](std::string_view name) {
    return name == "_a-1_B" ? std::optional<std::size_t>(0) : std::nullopt;
  });
  EXPECT_TRUE(std::holds_alternative<Template>(parsed));
}

TEST(TemplateTest, WithEscapesANameWithOtherCharactersIsAnError) {
  const struct {
    const char* text;
    std::size_t offset;
  } cases[] = {{"{a.b}", 2}, {"x{ region }", 2},     {"{region }", 7},   {"{1x}", 1},
               {"{-x}", 1},  {"{r\xc3\xa9gion}", 2}, {"{ \"a\": 1 }", 1}};
  for (const auto& c : cases) {
    const Template::Error error = MustFailEscaped(c.text);
    EXPECT_EQ(error.offset, c.offset) << c.text;
    EXPECT_NE(error.message.find("is not a placeholder"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("(write {{ and }} for literal braces)"), std::string::npos);
  }
  EXPECT_EQ(MustFailEscaped("{ \"a\": 1 }").message,
            "{ \"a\": 1 } is not a placeholder: a name has letters, digits, _ and - and starts "
            "with a letter or _ (write {{ and }} for literal braces)");
}

TEST(TemplateTest, WithEscapesAnUnclosedBraceIsAnError) {
  for (const auto& [text, offset] : std::vector<std::pair<std::string, std::size_t>>{
           {"ab{region", 2}, {"{", 0}, {"x{region:json", 1}, {"{a{region}", 0}, {"{{{", 2}}) {
    const Template::Error error = MustFailEscaped(text);
    EXPECT_EQ(error.offset, offset) << text;
    EXPECT_EQ(error.message, "\"{\" not closed (write {{ for a literal brace)") << text;
  }
}

TEST(TemplateTest, WithEscapesALoneClosingBraceIsAnError) {
  for (const auto& [text, offset] : std::vector<std::pair<std::string, std::size_t>>{
           {"ab}c", 2}, {"}", 0}, {"{region}}", 8}, {"}}}", 2}}) {
    const Template::Error error = MustFailEscaped(text);
    EXPECT_EQ(error.offset, offset) << text;
    EXPECT_EQ(error.message, "\"}\" without a matching \"{\" (write }} for a literal brace)")
        << text;
  }
}

TEST(TemplateTest, WithEscapesAnEmptyNameIsAnError) {
  Template::Error error = MustFailEscaped("x{}");
  EXPECT_EQ(error.offset, 2u);
  EXPECT_EQ(error.message, "empty name in {} (write {{ and }} for literal braces)");
  error = MustFailEscaped("{:json}");
  EXPECT_EQ(error.offset, 1u);
  EXPECT_EQ(error.message, "empty name in {:json} (write {{ and }} for literal braces)");
}

TEST(TemplateTest, UnknownFormatIsAnError) {
  Template::Error error = MustFail("/{region:yaml}");
  EXPECT_EQ(error.offset, 9u);
  EXPECT_EQ(error.message, "unknown format \"yaml\" in {region:yaml} (known: json, raw)");
  EXPECT_EQ(MustFail("{region:JSON}").offset, 8u);
  for (const char* text : {"{region:}", "{region:JSON}", "{region:json:raw}", "{region:raw }"}) {
    EXPECT_EQ(MustFailEscaped(text).offset, 8u) << text;
  }
}

// Issue 25: `-d '{"a":1}'` was refused (braces had to be doubled). Without "{{" anywhere,
// a template is read as curl users write it: only a placeholder's shape is a placeholder.
TEST(TemplateTest, WithoutEscapesBracesThatAreNoPlaceholderAreLiteral) {
  EXPECT_EQ(Expand(R"({"a":{"b":{task_id}}})", Context::kBody), R"({"a":{"b":101}})");
  EXPECT_EQ(Expand(R"({"id":{task_id:json},"region":{region:json}})", Context::kBody),
            R"({"id":101,"region":"eu"})");
  EXPECT_EQ(Expand(R"({ "a": [1, {"b": "{region}"}] })", Context::kBody),
            R"({ "a": [1, {"b": "eu"}] })");
  for (const char* text : {"{}", "}", "{", "}{", "{ region }", "{a.b}", "{1x}", "{-x}", "{:json}",
                           "{region", "{region:}", "{region:json:raw}", "{{region}"}) {
    if (std::string_view(text).find("{{") != std::string_view::npos) continue;
    EXPECT_EQ(Expand(text, Context::kBody), text) << text;
  }
  EXPECT_EQ(Expand("{region}}", Context::kText), "eu}");
  EXPECT_EQ(MustFail("{{region}").message,
            "\"}\" without a matching \"{\" (write }} for a literal brace)")
      << "with escapes, {{ is a literal { and } must be doubled";
  EXPECT_EQ(Expand("/a/{region}/{1}/?q={size}", Context::kUrl), "/a/eu/{1}/?q=42");
}

TEST(TemplateTest, WithoutEscapesAPlaceholdersShapeStillNamesWhatIsKnown) {
  Template::Error error = MustFail(R"({"id":{taskid}})");
  EXPECT_EQ(error.offset, 7u);
  EXPECT_EQ(error.message, "unknown name \"taskid\" in {taskid}");
  error = MustFail(R"({"id":{task_id:jsn}})");
  EXPECT_EQ(error.offset, 15u);
  EXPECT_EQ(error.message, "unknown format \"jsn\" in {task_id:jsn} (known: json, raw)");
  const std::string known[] = {"task_id", "region"};
  auto parsed = Template::Parse("{regoin}", Context::kBody, Resolve, known);
  ASSERT_TRUE(std::holds_alternative<Template::Error>(parsed));
  EXPECT_EQ(std::get<Template::Error>(parsed).message,
            "unknown name \"regoin\" in {regoin} (known: task_id, region)");
}

TEST(TemplateTest, UnknownNameIsAnError) {
  Template::Error error = MustFail("/v1/{regoin}/x");
  EXPECT_EQ(error.offset, 5u);
  EXPECT_EQ(error.message, "unknown name \"regoin\" in {regoin}");
  error = MustFail("{{ok}} {Region:json}");
  EXPECT_EQ(error.offset, 8u);
  EXPECT_EQ(error.message, "unknown name \"Region\" in {Region:json}");
}

TEST(TemplateTest, ErrorMessagesShowNoControlCharactersAndStayShort) {
  const Template::Error error = MustFailEscaped("{a\nb}");
  EXPECT_EQ(error.offset, 2u);
  EXPECT_EQ(error.message.find('\n'), std::string::npos) << error.message;
  EXPECT_EQ(error.message.rfind("{a?b} is not a placeholder", 0), 0u) << error.message;
  const std::string long_format = "{region:" + std::string(500, 'y') + "}";
  EXPECT_LT(MustFail(long_format).message.size(), 200u);
}

// --- URLs ---------------------------------------------------------------------------------

TEST(TemplateTest, UrlPercentEncodesPlainValues) {
  Row row;
  row.Set(kRegion, "a b&c/d?e#f%g+h=i:j@k[l]");
  EXPECT_EQ(Expand("https://h/{region}", Context::kUrl, row),
            "https://h/a%20b%26c%2Fd%3Fe%23f%25g%2Bh%3Di%3Aj%40k%5Bl%5D");
  row.Set(kRegion, "AZaz09-._~");
  EXPECT_EQ(Expand("/{region}", Context::kUrl, row), "/AZaz09-._~");
  row.Set(kRegion, std::string_view("\xc3\xa9\n\0\x7f", 5));
  EXPECT_EQ(Expand("/{region}", Context::kUrl, row), "/%C3%A9%0A%00%7F");
  row.Set(kRatio, "1e+300");
  EXPECT_EQ(Expand("?r={ratio}", Context::kUrl, row), "?r=1e%2B300");
}

// Issue 24: a value "." or ".." was sent as it is, and curl (or the server) removed the
// segment: /tenant/{task_type}/delete with ".." sent /delete.
TEST(TemplateTest, UrlValueThatMakesADotSegmentHasItsDotsEncoded) {
  Row row;
  const std::string url = "http://h/tenant/{task_type}/delete?id={task_id}";
  EXPECT_EQ(Expand(url, Context::kUrl, row.Set(kTaskType, "..")),
            "http://h/tenant/%2E%2E/delete?id=101");
  EXPECT_EQ(Expand(url, Context::kUrl, row.Set(kTaskType, ".")),
            "http://h/tenant/%2E/delete?id=101");
  // At the end of the path, before a fragment, made with the text or with another value.
  EXPECT_EQ(Expand("http://h/a/{region}", Context::kUrl, row.Set(kRegion, "..")),
            "http://h/a/%2E%2E");
  EXPECT_EQ(Expand("http://h/a/{region}#f", Context::kUrl, row.Set(kRegion, "..")),
            "http://h/a/%2E%2E#f");
  EXPECT_EQ(Expand("http://h/a/.{region}/b", Context::kUrl, row.Set(kRegion, ".")),
            "http://h/a/%2E%2E/b");
  EXPECT_EQ(Expand("http://h/a/{region}{task_type}/b", Context::kUrl,
                   row.Set(kRegion, ".").Set(kTaskType, ".")),
            "http://h/a/%2E%2E/b");
  EXPECT_EQ(Expand("http://h/a/.{region}./b", Context::kUrl, row.Set(kRegion, "")),
            "http://h/a/%2E%2E/b");
  EXPECT_EQ(Expand("{region:raw}/a/{task_type}", Context::kUrl,
                   row.Set(kRegion, "http://h/x").Set(kTaskType, "..")),
            "http://h/x/a/%2E%2E");
  // Not a whole segment, or not in the path: as before.
  row = Row();
  EXPECT_EQ(Expand("http://h/a/{region}/b", Context::kUrl, row.Set(kRegion, "...")),
            "http://h/a/.../b");
  EXPECT_EQ(Expand("http://h/a/x{region}/b", Context::kUrl, row.Set(kRegion, "..")),
            "http://h/a/x../b");
  EXPECT_EQ(Expand("http://h/a?r={region}&s=/{region}", Context::kUrl, row.Set(kRegion, "..")),
            "http://h/a?r=..&s=/..");
  EXPECT_EQ(Expand("http://{region}.h/a", Context::kUrl, row.Set(kRegion, "..")), "http://...h/a");
  // A raw value is the URL's own text.
  EXPECT_EQ(Expand("http://h/a/{region:raw}/b", Context::kUrl, row.Set(kRegion, "..")),
            "http://h/a/../b");
}

TEST(TemplateTest, UrlDotSegmentsOfTheTemplateAreRemovedWhenItIsRead) {
  Row row;
  row.Set(kRegion, "..");
  EXPECT_EQ(MustParse("http://h/a/../b/{region}", Context::kUrl).source(), "http://h/b/{region}");
  EXPECT_EQ(Expand("http://h/a/../b/{region}", Context::kUrl, row), "http://h/b/%2E%2E");
  EXPECT_EQ(Expand("http://h:80/a/./b/../../c/{region}?q=/../x", Context::kUrl, row),
            "http://h:80/c/%2E%2E?q=/../x");
  EXPECT_EQ(Expand("https://h/{task_id}/../{region}/.", Context::kUrl, row), "https://h/%2E%2E/");
  EXPECT_EQ(Expand("http://h/../../a", Context::kUrl), "http://h/a");
  EXPECT_EQ(Expand("http://h/a/..", Context::kUrl), "http://h/");
  EXPECT_EQ(Expand("http://h/a/.#x/../y", Context::kUrl), "http://h/a/#x/../y");
  // Where the text does not say where its path is, it stays as written.
  EXPECT_EQ(Expand("{region:raw}/a/../b", Context::kUrl, row.Set(kRegion, "http://h")),
            "http://h/a/../b");
  EXPECT_EQ(Expand("/a/../b", Context::kUrl), "/a/../b");
  // Errors are at their place in the text as written.
  EXPECT_EQ(MustFail("http://h/a/../{regoin}", Context::kUrl).offset, 15u);
}

// Whatever a plain value holds, the URL keeps its host, port, path segments and query keys:
// read back by curl's own parser, which also removes dot segments as a server would.
TEST(TemplateTest, UrlValuesNeverChangeHostPortPathOrQueryKeys) {
  const std::string hostile[] = {
      ".",
      "..",
      "%2e%2e",
      "%2E%2E",
      "%2F",
      "/",
      "\\",
      "?",
      "#",
      "@",
      ":",
      "../..",
      "..%2F..",
      "..\\..",
      "a/../../b",
      "@evil:1/",
      ":99",
      "?x=1&y",
      "#/../../",
      "\xe2\x80\xa5",
      "\xef\xbc\x8e",
      "\xef\xbc\x8e\xef\xbc\x8e",
      "\xe2\x88\x95",
      "\xe2\x81\x84",
      "\xef\xbc\x8f",
      "%00",
      "\xc0\xae\xc0\xae",
  };
  const std::string url = "http://h:8080/tenant/{task_type}/x?k={region}&id={task_id}";
  for (const std::string& value : hostile) {
    SCOPED_TRACE(value);
    Row row;
    row.Set(kTaskType, value).Set(kRegion, value);
    const std::string expanded = Expand(url, Context::kUrl, row);
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), curl_url_cleanup);
    ASSERT_EQ(curl_url_set(parsed.get(), CURLUPART_URL, expanded.c_str(), 0), CURLUE_OK)
        << expanded;
    const auto part = [&](CURLUPart which) {
      char* text = nullptr;
      if (curl_url_get(parsed.get(), which, &text, 0) != CURLUE_OK) return std::string("-");
      std::string copy(text);
      curl_free(text);
      return copy;
    };
    EXPECT_EQ(part(CURLUPART_HOST), "h") << expanded;
    EXPECT_EQ(part(CURLUPART_PORT), "8080") << expanded;
    EXPECT_EQ(part(CURLUPART_USER), "-") << expanded;
    EXPECT_EQ(part(CURLUPART_FRAGMENT), "-") << expanded;
    const std::string path = part(CURLUPART_PATH);
    ASSERT_TRUE(path.starts_with("/tenant/") && path.ends_with("/x")) << expanded;
    const std::string segment = path.substr(8, path.size() - 10);
    EXPECT_EQ(segment.find('/'), std::string::npos) << expanded;
    EXPECT_NE(segment, ".") << expanded;
    EXPECT_NE(segment, "..") << expanded;
    const std::string query = part(CURLUPART_QUERY);
    ASSERT_TRUE(query.starts_with("k=") && query.ends_with("&id=101")) << expanded;
    EXPECT_EQ(query.find('&'), query.size() - 7) << expanded;
    EXPECT_EQ(query.find('='), 1u) << expanded;
    EXPECT_EQ(query.find('=', 2), query.size() - 4) << expanded;
  }
}

TEST(TemplateTest, UrlRawValuesAreVerbatim) {
  Row row;
  row.Set(kRegion, "a/b?c=d&e=%20 f");
  EXPECT_EQ(Expand("https://h/{region:raw}", Context::kUrl, row), "https://h/a/b?c=d&e=%20 f");
}

TEST(TemplateTest, UrlRawValueWithAControlCharacterFails) {
  Row row;
  row.Set(kRegion, "a\r\nHost: evil");
  EXPECT_EQ(Expand("/{region:raw}", Context::kUrl, row),
            "ERROR: value of region has a line break; it cannot go in a URL");
  row.Set(kRegion, "a\tb");
  EXPECT_EQ(Expand("/{region:raw}", Context::kUrl, row),
            "ERROR: value of region has a control character (0x09); it cannot go in a URL");
}

TEST(TemplateTest, UrlJsonIsTheLiteralPercentEncoded) {
  Row row;
  row.Set(kRegion, "a \"b\"");
  EXPECT_EQ(Expand("?q={region:json}", Context::kUrl, row), "?q=%22a%20%5C%22b%5C%22%22");
  EXPECT_EQ(Expand("?id={task_id:json}&f={flag:json}", Context::kUrl), "?id=101&f=true");
  row.Set(kRatio, "-1.5e+300");
  EXPECT_EQ(Expand("{ratio:json}", Context::kUrl, row), "-1.5e%2B300");
}

TEST(TemplateTest, UrlTextWithAControlCharacterIsAnError) {
  const Template::Error error = MustFail("https://h/\n{region}", Context::kUrl);
  EXPECT_EQ(error.offset, 10u);
  EXPECT_EQ(error.message, "the text has a line break; it cannot go in a URL");
  EXPECT_EQ(MustFail("https://h/\t", Context::kUrl).offset, 10u);
}

// --- file paths (a fetch's save) --------------------------------------------------------

// Issue 26: a value is part of one file name. Its slashes, '%' and control characters are
// percent-encoded, and a name it makes "." or ".." has its dots encoded: no value chooses the
// folder.
TEST(TemplateTest, PathValuesStayInsideOneFileName) {
  Row row;
  EXPECT_EQ(Expand("bodies/{task_type}/{task_id}.json", Context::kPath), "bodies/fetch/101.json");
  EXPECT_EQ(Expand("bodies/{region}.json", Context::kPath, row.Set(kRegion, "../../etc/passwd")),
            "bodies/..%2F..%2Fetc%2Fpasswd.json");
  EXPECT_EQ(Expand("{region}", Context::kPath, row.Set(kRegion, "/etc/passwd")), "%2Fetc%2Fpasswd");
  EXPECT_EQ(Expand("b/{region}", Context::kPath, row.Set(kRegion, std::string_view("a\nb\0c%", 6))),
            "b/a%0Ab%00c%25");
  EXPECT_EQ(Expand("b/{region}/x", Context::kPath, row.Set(kRegion, "..")), "b/%2E%2E/x");
  EXPECT_EQ(Expand("b/{region}", Context::kPath, row.Set(kRegion, ".")), "b/%2E");
  EXPECT_EQ(Expand("{region}/x", Context::kPath, row.Set(kRegion, "..")), "%2E%2E/x");
  EXPECT_EQ(Expand("b/.{region}/x", Context::kPath, row.Set(kRegion, ".")), "b/%2E%2E/x");
  EXPECT_EQ(
      Expand("b/{region}{task_type}/x", Context::kPath, row.Set(kRegion, ".").Set(kTaskType, ".")),
      "b/%2E%2E/x");
  row = Row();
  // Not a whole name: as it is. Spaces, quotes, '?' and '#' are a file name's own.
  EXPECT_EQ(Expand("b/{region}.json", Context::kPath, row.Set(kRegion, "..")), "b/...json");
  EXPECT_EQ(Expand("b/{region}", Context::kPath, row.Set(kRegion, "a b?#\"'")), "b/a b?#\"'");
  // JSON, encoded the same way.
  EXPECT_EQ(Expand("b/{region:json}", Context::kPath, row.Set(kRegion, "a/b")), "b/\"a%2Fb\"");
}

TEST(TemplateTest, PathRefusesRawValuesAndControlCharacters) {
  const Template::Error raw = MustFail("bodies/{region:raw}", Context::kPath);
  EXPECT_EQ(raw.offset, 15u);
  EXPECT_EQ(raw.message,
            "{region:raw} in a file path: a value's own slashes would choose the folder (write "
            "{region}, whose slashes are written %2F)");
  const Template::Error control = MustFail("bodies/\n{task_id}", Context::kPath);
  EXPECT_EQ(control.offset, 7u);
  EXPECT_EQ(control.message, "the text has a line break; it cannot go in a file path");
}

// --- headers ------------------------------------------------------------------------------

TEST(TemplateTest, HeaderValuesAreVerbatim) {
  Row row;
  row.Set(kRegion, "a b&c%20\t\"d\" \xc3\xa9");
  EXPECT_EQ(Expand("Bearer {region}", Context::kHeader, row), "Bearer a b&c%20\t\"d\" \xc3\xa9");
  EXPECT_EQ(Expand("{region:raw}", Context::kHeader, row), "a b&c%20\t\"d\" \xc3\xa9");
  EXPECT_EQ(Expand("{region:json}", Context::kHeader, row), "\"a b&c%20\\t\\\"d\\\" \xc3\xa9\"");
}

TEST(TemplateTest, HeaderValueWithALineBreakOrControlCharacterFails) {
  Row row;
  for (const char* format : {"{region}", "{region:raw}"}) {
    row.Set(kRegion, "x\r\nX-Injected: 1");
    EXPECT_EQ(Expand(format, Context::kHeader, row),
              "ERROR: value of region has a line break; it cannot go in a header");
    row.Set(kRegion, "x\n");
    EXPECT_EQ(Expand(format, Context::kHeader, row),
              "ERROR: value of region has a line break; it cannot go in a header");
    row.Set(kRegion, std::string_view("x\0y", 3));
    EXPECT_EQ(Expand(format, Context::kHeader, row),
              "ERROR: value of region has a control character (0x00); it cannot go in a header");
    row.Set(kRegion, "\x1b[m");
    EXPECT_EQ(Expand(format, Context::kHeader, row),
              "ERROR: value of region has a control character (0x1B); it cannot go in a header");
    row.Set(kRegion, "\x7f");
    EXPECT_EQ(Expand(format, Context::kHeader, row),
              "ERROR: value of region has a control character (0x7F); it cannot go in a header");
  }
  // As JSON the line break is escaped, so it can go.
  row.Set(kRegion, "x\r\ny");
  EXPECT_EQ(Expand("{region:json}", Context::kHeader, row), "\"x\\r\\ny\"");
}

TEST(TemplateTest, HeaderTextWithALineBreakIsAnError) {
  const Template::Error error = MustFail("a\r\nX-Evil: {region}", Context::kHeader);
  EXPECT_EQ(error.offset, 1u);
  EXPECT_EQ(error.message, "the text has a line break; it cannot go in a header");
  EXPECT_EQ(MustFail("a\x01", Context::kHeader).message,
            "the text has a control character (0x01); it cannot go in a header");
  EXPECT_EQ(Expand("a\tb", Context::kHeader), "a\tb");
}

TEST(TemplateTest, FailedExpansionLeavesOutAsItWas) {
  const Template tmpl = MustParse("{task_id} {region} {size}", Context::kHeader);
  std::string out = "X-Id: ", error;
  const auto value = [](std::size_t slot) {
    return TemplateValue{ColumnType::kString, slot == kRegion ? "\n" : "ok"};
  };
  EXPECT_FALSE(tmpl.ExpandTo(out, value, error));
  EXPECT_EQ(out, "X-Id: ");
  EXPECT_EQ(error, "value of region has a line break; it cannot go in a header");
}

// --- bodies -------------------------------------------------------------------------------

TEST(TemplateTest, BodyValuesAreVerbatim) {
  Row row;
  const std::string_view raw("a\r\n\0\"}{\\\xff", 9);
  row.Set(kRegion, raw);
  EXPECT_EQ(Expand("[{region}]", Context::kBody, row), "[" + std::string(raw) + "]");
  EXPECT_EQ(Expand("{region:raw}", Context::kBody, row), raw);
  EXPECT_EQ(Expand("x\ny\r\n{size}", Context::kBody, row), "x\ny\r\n42");
}

// --- emit lines ---------------------------------------------------------------------------

TEST(TemplateTest, TextReplacesControlCharactersWithQuestionMarks) {
  Row row;
  row.Set(kRegion, std::string_view("\x1b[31mred\r\n\t\0x\x7f\xc3\xa9", 16));
  EXPECT_EQ(Expand("region={region}", Context::kText, row), "region=?[31mred????x?\xc3\xa9");
  EXPECT_EQ(Expand("{region:raw}", Context::kText, row), "?[31mred????x?\xc3\xa9");
  EXPECT_EQ(Expand("{region:json}", Context::kText, row),
            "\"\\u001b[31mred\\r\\n\\t\\u0000x\\u007f\xc3\xa9\"");
}

// --- JSON literals -------------------------------------------------------------------------

TEST(TemplateTest, JsonStringsAreEscaped) {
  Row row;
  row.Set(kRegion,
          std::string_view("say \"hi\"\\/ \x01\x1f\b\f\n\r\t\0 \xc3\xa9 \xf0\x9f\x98\x80", 27));
  EXPECT_EQ(
      Expand("{region:json}", Context::kBody, row),
      "\"say \\\"hi\\\"\\\\/ \\u0001\\u001f\\b\\f\\n\\r\\t\\u0000 \xc3\xa9 \xf0\x9f\x98\x80\"");
  row.Set(kRegion, "");
  EXPECT_EQ(Expand("{region:json}", Context::kBody, row), "\"\"");
  row.Set(kRegion,
          "a\x7f\x7f"
          "b");
  EXPECT_EQ(Expand("{region:json}", Context::kBody, row), "\"a\\u007f\\u007fb\"");
  EXPECT_EQ(Expand("{task_type:json}", Context::kBody), "\"fetch\"");
}

TEST(TemplateTest, JsonDurationIsAString) {
  EXPECT_EQ(Expand("{wait:json}", Context::kBody), "\"1.5s\"");
  EXPECT_EQ(Expand("{wait}", Context::kBody), "1.5s");
}

TEST(TemplateTest, JsonNumbersAreBare) {
  Row row;
  EXPECT_EQ(Expand("{task_id:json} {size:json} {ratio:json}", Context::kBody), "101 42 0.5");
  row.Set(kTaskId, "18446744073709551615").Set(kSize, "0").Set(kRatio, "-0");
  EXPECT_EQ(Expand("{task_id:json} {size:json} {ratio:json}", Context::kBody, row),
            "18446744073709551615 0 -0");
  row.Set(kUserId, ColumnType::kI64, "-9223372036854775808").Set(kRatio, "1.7976931348623157e+308");
  EXPECT_EQ(Expand("{user-id:json} {ratio:json}", Context::kBody, row),
            "-9223372036854775808 1.7976931348623157e+308");
  row.Set(kRatio, "5e-324");
  EXPECT_EQ(Expand("{ratio:json}", Context::kBody, row), "5e-324");
}

TEST(TemplateTest, JsonBoolIsTrueOrFalse) {
  Row row;
  EXPECT_EQ(Expand("{flag:json}", Context::kBody, row), "true");
  row.Set(kFlag, "false");
  EXPECT_EQ(Expand("{flag:json}", Context::kBody, row), "false");
}

TEST(TemplateTest, JsonStringThatIsNotUtf8Fails) {
  Row row;
  for (const char* bad : {"\xff", "a\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80",
                          "\xe2\x82", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf0\x8f\xbf\xbf"}) {
    row.Set(kRegion, bad);
    EXPECT_EQ(Expand("{region:json}", Context::kBody, row),
              "ERROR: value of region is not UTF-8, so {region:json} cannot write it as a JSON "
              "string");
  }
  for (const char* good : {"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
                           "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"}) {
    row.Set(kRegion, good);
    EXPECT_EQ(Expand("{region:json}", Context::kBody, row), "\"" + std::string(good) + "\"");
  }
}

TEST(TemplateTest, JsonOfANumberColumnThatIsNotANumberFails) {
  Row row;
  for (const char* bad : {"", "12x", "+1", "01", ".5", "1.", "1e", "1e+", "--1", "inf", "nan", " 1",
                          "1 ", "0x10", "-"}) {
    row.Set(kSize, bad);
    EXPECT_EQ(Expand("{size:json}", Context::kBody, row),
              "ERROR: value of size (a u32) is not a number, so {size:json} cannot write it")
        << bad;
  }
  row.Set(kSize, "12x");
  EXPECT_EQ(Expand("{size}", Context::kBody, row), "12x");  // only :json needs a number
}

TEST(TemplateTest, JsonOfABoolColumnThatIsNeitherTrueNorFalseFails) {
  Row row;
  for (const char* bad : {"", "yes", "True", "1", "true "}) {
    row.Set(kFlag, bad);
    EXPECT_EQ(Expand("{flag:json}", Context::kBody, row),
              "ERROR: value of flag is neither true nor false, so {flag:json} cannot write it");
  }
}

TEST(TemplateTest, JsonOfI32AndF32IsTheNumber) {
  Row row;
  row.Set(kSize, ColumnType::kI32, "-2147483648").Set(kRatio, ColumnType::kF32, "3.4028235e+38");
  EXPECT_EQ(Expand("{size:json} {ratio:json}", Context::kBody, row), "-2147483648 3.4028235e+38");
  row.Set(kSize, ColumnType::kI32, "1x");
  EXPECT_EQ(Expand("{size:json}", Context::kBody, row),
            "ERROR: value of size (an i32) is not a number, so {size:json} cannot write it");
  row.Set(kRatio, ColumnType::kF32, "inf");
  EXPECT_EQ(Expand("{ratio:json}", Context::kBody, row),
            "ERROR: value of ratio (an f32) is not a number, so {ratio:json} cannot write it");
}

// --- bytes and json columns ---------------------------------------------------------------

// A bytes value as ReadColumnValue keeps it: decoded ("YQAK/w==" in the CSV).
const std::string kSomeBytes("a\0\n\xff", 4);

TEST(TemplateTest, BytesAreTheDecodedBytesInABody) {
  Row row;
  row.Set(kRegion, ColumnType::kBytes, kSomeBytes);
  EXPECT_EQ(Expand("<{region}>", Context::kBody, row), "<" + kSomeBytes + ">");
  EXPECT_EQ(Expand("<{region:raw}>", Context::kBody, row), "<" + kSomeBytes + ">");
}

TEST(TemplateTest, BytesAsJsonAreTheirBase64AsAJsonString) {
  Row row;
  row.Set(kRegion, ColumnType::kBytes, kSomeBytes);
  EXPECT_EQ(Expand("{region:json}", Context::kBody, row), "\"YQAK/w==\"");
  EXPECT_EQ(Expand("{region:json}", Context::kHeader, row), "\"YQAK/w==\"");
  EXPECT_EQ(Expand("{region:json}", Context::kText, row), "\"YQAK/w==\"");
  EXPECT_EQ(Expand("http://h/?b={region:json}", Context::kUrl, row),
            "http://h/?b=%22YQAK%2Fw%3D%3D%22");
  row.Set(kRegion, ColumnType::kBytes, "");
  EXPECT_EQ(Expand("[{region:json}]", Context::kBody, row), "[\"\"]");
  row.Set(kRegion, ColumnType::kBytes, "ab");
  EXPECT_EQ(Expand("{region:json}", Context::kBody, row), "\"YWI=\"");
  // Three zero bytes are "AAAA": a long value, written after other text.
  const std::string zeros(300000, '\0');
  row.Set(kRegion, ColumnType::kBytes, zeros);
  EXPECT_EQ(Expand("x{region:json}", Context::kBody, row), "x\"" + std::string(400000, 'A') + "\"");
}

TEST(TemplateTest, BytesInAUrlArePercentEncodedUnlessRaw) {
  Row row;
  row.Set(kRegion, ColumnType::kBytes, kSomeBytes);
  EXPECT_EQ(Expand("http://h/{region}", Context::kUrl, row), "http://h/a%00%0A%FF");
  EXPECT_EQ(Expand("http://h/{region:raw}", Context::kUrl, row),
            "ERROR: value of region has a control character (0x00); it cannot go in a URL");
  row.Set(kRegion, ColumnType::kBytes, "a/b");
  EXPECT_EQ(Expand("http://h/{region:raw}", Context::kUrl, row), "http://h/a/b");
}

TEST(TemplateTest, BytesWithAControlCharacterCannotGoInAHeader) {
  Row row;
  row.Set(kRegion, ColumnType::kBytes, "a\r\nX-Injected: 1");
  EXPECT_EQ(Expand("{region}", Context::kHeader, row),
            "ERROR: value of region has a line break; it cannot go in a header");
  EXPECT_EQ(Expand("{region:raw}", Context::kHeader, row),
            "ERROR: value of region has a line break; it cannot go in a header");
  const std::string with_nul("a\0", 2);  // Row holds a view: the bytes must outlive it
  row.Set(kRegion, ColumnType::kBytes, with_nul);
  EXPECT_EQ(Expand("{region}", Context::kHeader, row),
            "ERROR: value of region has a control character (0x00); it cannot go in a header");
  row.Set(kRegion, ColumnType::kBytes, "a\tb\xff");
  EXPECT_EQ(Expand("{region}", Context::kHeader, row), "a\tb\xff");
}

TEST(TemplateTest, BytesInAnEmitLineHaveTheirControlCharactersReplaced) {
  Row row;
  row.Set(kRegion, ColumnType::kBytes, kSomeBytes);
  EXPECT_EQ(Expand("{region} {region:raw}", Context::kText, row), "a??\xff a??\xff");
}

// A json value as ReadColumnValue keeps it: as written, blanks between tokens and all.
const std::string kSomeJson =
    "{ \"a b\" :\n\t[1.0, 12345678901234567890123, \"q\\\" }\", \"\\\\\" ] ,\r\n\"c\": null }";

TEST(TemplateTest, JsonAsJsonIsCompactAndKeepsItsNumbersAndStrings) {
  Row row;
  row.Set(kRegion, ColumnType::kJson, kSomeJson);
  const std::string compact =
      "{\"a b\":[1.0,12345678901234567890123,\"q\\\" }\",\"\\\\\"],\"c\":null}";
  EXPECT_EQ(Expand("{region:json}", Context::kBody, row), compact);
  EXPECT_EQ(Expand("{region:json}", Context::kHeader, row), compact);
  EXPECT_EQ(Expand("{region:json}", Context::kText, row), compact);
  EXPECT_EQ(Expand("http://h/?j={region:json}", Context::kUrl, row),
            "http://h/?j=%7B%22a%20b%22%3A%5B1.0%2C12345678901234567890123%2C%22q%5C%22%20%7D%22%"
            "2C%22%5C%5C%22%5D%2C%22c%22%3Anull%7D");
  row.Set(kRegion, ColumnType::kJson, " 7 ");
  EXPECT_EQ(Expand("[{region:json}]", Context::kBody, row), "[7]");
}

TEST(TemplateTest, JsonAsJsonWritesDelEscapedAndFailsOnAControlCharacter) {
  Row row;
  row.Set(kRegion, ColumnType::kJson, "[\"a\x7f\"]");
  EXPECT_EQ(Expand("{region:json}", Context::kHeader, row), "[\"a\\u007f\"]");
  // Not JSON (a string cannot hold one), so never read from a CSV; still no header gets it.
  row.Set(kRegion, ColumnType::kJson, "[\"a\nb\"]");
  EXPECT_EQ(Expand("{region:json}", Context::kHeader, row),
            "ERROR: value of region (json) has a control character, so {region:json} cannot "
            "write it");
}

TEST(TemplateTest, JsonPlainAndRawAreTheTextAsWritten) {
  Row row;
  row.Set(kRegion, ColumnType::kJson, kSomeJson);
  EXPECT_EQ(Expand("{region}", Context::kBody, row), kSomeJson);
  EXPECT_EQ(Expand("{region:raw}", Context::kBody, row), kSomeJson);
  EXPECT_EQ(Expand("{region}", Context::kText, row),
            "{ \"a b\" :??[1.0, 12345678901234567890123, \"q\\\" }\", \"\\\\\" ] ,??\"c\": null }");
  EXPECT_EQ(Expand("{region}", Context::kHeader, row),
            "ERROR: value of region has a line break; it cannot go in a header");
  row.Set(kRegion, ColumnType::kJson, "[1, \"a\"]");
  EXPECT_EQ(Expand("{region}", Context::kHeader, row), "[1, \"a\"]");
  EXPECT_EQ(Expand("http://h/{region}", Context::kUrl, row), "http://h/%5B1%2C%20%22a%22%5D");
}

// --- performance --------------------------------------------------------------------------

TEST(TemplateTest, ExpandAllocatesNothingButOut) {
#ifndef TEMPLATE_TEST_COUNTS_ALLOCATIONS
  GTEST_SKIP() << "counts allocations only under AddressSanitizer (ORCHESTRATOR_SANITIZE=ON)";
#else
  static const int installed = __sanitizer_install_malloc_and_free_hooks(CountMalloc, IgnoreFree);
  ASSERT_NE(installed, 0);
  Row row;
  row.Set(kRegion, "a b\x7f\"\n\xc3\xa9");
  const std::vector<Template> templates = {
      MustParse("https://h/{region}?q={region:json}&id={task_id:json}&r={wait:raw}", Context::kUrl),
      MustParse("Bearer {region} {region:json} {size:json} {flag:json}", Context::kBody),
      MustParse("{{\"r\": {region:json}, \"w\": {wait:json}, \"x\": {ratio:json}}}",
                Context::kBody),
      MustParse("emit {task_type} {region} {region:json}", Context::kText),
  };
  const std::function<TemplateValue(std::size_t)> value = [&](std::size_t slot) {
    return row.values[slot];
  };
  std::string out, error;
  out.reserve(4096);
  counting = true;
  allocations = 0;
  bool ok = true;
  for (int round = 0; round < 10; ++round) {
    for (const Template& tmpl : templates) {
      out.clear();
      ok = tmpl.ExpandTo(out, value, error) && ok;
    }
  }
  counting = false;
  EXPECT_TRUE(ok) << error;
  EXPECT_EQ(allocations, 0u);
#endif
}

}  // namespace
}  // namespace orchestrator

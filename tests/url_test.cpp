#include "orchestrator/url.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace orchestrator {
namespace {

TEST(UrlTest, AcceptsHttpAndHttps) {
  EXPECT_EQ(CheckFetchUrl("https://httpbin.org/get"), CheckResult(kPassed));
  EXPECT_EQ(CheckFetchUrl("http://127.0.0.1:8080/get?x=1"), CheckResult(kPassed));
  EXPECT_EQ(CheckFetchUrl("HTTP://example.com"), CheckResult(kPassed));
}

TEST(UrlTest, RefusesOtherSchemesAndNonUrls) {
  EXPECT_EQ(CheckFetchUrl("ftp://example.com/x"),
            CheckResult("only http and https URLs are supported: ftp://example.com/x"));
  EXPECT_EQ(CheckFetchUrl("file:///etc/passwd"),
            CheckResult("only http and https URLs are supported: file:///etc/passwd"));
  EXPECT_EQ(CheckFetchUrl(""), CheckResult("the URL is empty"));
  EXPECT_TRUE(std::holds_alternative<std::string>(CheckFetchUrl("not a url")));
  EXPECT_TRUE(std::holds_alternative<std::string>(CheckFetchUrl("http://")));
}

TEST(UrlTest, NeverShowsPasswords) {
  EXPECT_EQ(RedactUrl("https://user:s3cret@example.com/x"), "https://user:***@example.com/x");
  EXPECT_EQ(RedactUrl("https://example.com/x"), "https://example.com/x");
  const CheckResult checked = CheckFetchUrl("ftp://user:s3cret@example.com/");
  const auto* problem = std::get_if<std::string>(&checked);
  ASSERT_NE(problem, nullptr);
  EXPECT_EQ(problem->find("s3cret"), std::string::npos) << *problem;
  EXPECT_EQ(RedactUrl("bad url user:s3cret@host").find("s3cret"), std::string::npos);
}

// curl's guess: no "scheme://" in front is http://; the template's own text decides, never a
// value.
TEST(UrlTest, GuessesHttpForAUrlWithoutAScheme) {
  EXPECT_EQ(WithGuessedScheme("127.0.0.1:8080/get"), "http://127.0.0.1:8080/get");
  EXPECT_EQ(WithGuessedScheme("example.com"), "http://example.com");
  EXPECT_EQ(WithGuessedScheme("localhost:80"), "http://localhost:80");
  EXPECT_EQ(WithGuessedScheme("h/{task_id}"), "http://h/{task_id}");
  EXPECT_EQ(WithGuessedScheme("http://h/"), "http://h/");
  EXPECT_EQ(WithGuessedScheme("https://h/"), "https://h/");
  EXPECT_EQ(WithGuessedScheme("ftp://h/"), "ftp://h/") << "refused later, as before";
  EXPECT_EQ(WithGuessedScheme("{base:raw}/ok"), "{base:raw}/ok") << "a value decides nothing";
  EXPECT_EQ(WithGuessedScheme(""), "");
}

}  // namespace
}  // namespace orchestrator

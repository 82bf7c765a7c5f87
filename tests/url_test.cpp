#include "orchestrator/url.h"

#include <gtest/gtest.h>

namespace orchestrator {
namespace {

TEST(UrlTest, AcceptsHttpAndHttps) {
  EXPECT_FALSE(CheckFetchUrl("https://httpbin.org/get").has_value());
  EXPECT_FALSE(CheckFetchUrl("http://127.0.0.1:8080/get?x=1").has_value());
  EXPECT_FALSE(CheckFetchUrl("HTTP://example.com").has_value());
}

TEST(UrlTest, RefusesOtherSchemesAndNonUrls) {
  EXPECT_EQ(CheckFetchUrl("ftp://example.com/x"),
            "only http and https URLs are supported: ftp://example.com/x");
  EXPECT_EQ(CheckFetchUrl("file:///etc/passwd"),
            "only http and https URLs are supported: file:///etc/passwd");
  EXPECT_EQ(CheckFetchUrl(""), "the URL is empty");
  EXPECT_TRUE(CheckFetchUrl("not a url").has_value());
  EXPECT_TRUE(CheckFetchUrl("http://").has_value());
}

TEST(UrlTest, NeverShowsPasswords) {
  EXPECT_EQ(RedactUrl("https://user:s3cret@example.com/x"), "https://user:***@example.com/x");
  EXPECT_EQ(RedactUrl("https://example.com/x"), "https://example.com/x");
  const auto problem = CheckFetchUrl("ftp://user:s3cret@example.com/");
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->find("s3cret"), std::string::npos) << *problem;
  EXPECT_EQ(RedactUrl("bad url user:s3cret@host").find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace orchestrator

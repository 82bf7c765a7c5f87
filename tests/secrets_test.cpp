#include "orchestrator/secrets.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace orchestrator {
namespace {

using Secrets = std::vector<std::string>;

Secrets Of(std::string_view value, HeaderValues kind) {
  const std::string_view values[] = {value};
  return HeaderSecrets(values, kind);
}

// One header value each: what is masked when it is sent, and when it is a -H template.
struct Row {
  std::string_view value;
  Secrets sent;
  Secrets templates;
};

TEST(SecretsTest, MasksEachValueAndEachWordOfFourCharactersOrMore) {
  const Row rows[] = {
      {"abc123", {"abc123"}, {"abc123"}},
      {"Bearer abc123",
       {"Bearer abc123", "Bearer", "abc123"},
       {"Bearer abc123", "Bearer", "abc123"}},
      {"  Bearer\tabc123 ",
       {"Bearer\tabc123", "Bearer", "abc123"},
       {"Bearer\tabc123", "Bearer", "abc123"}},
      {"Bearer  abc123",
       {"Bearer  abc123", "Bearer", "abc123"},
       {"Bearer  abc123", "Bearer", "abc123"}},
      // Under 4 characters: no secret, whole or word.
      {"", {}, {}},
      {"en", {}, {}},
      {"1", {}, {}},
      {"a b c", {"a b c"}, {"a b c"}},
      {"gzip, br", {"gzip, br", "gzip,"}, {"gzip, br", "gzip,"}},
      {"abcd abcd", {"abcd abcd", "abcd"}, {"abcd abcd", "abcd"}},  // a word once
      // A word that is one placeholder is a secret once sent, not in a template.
      {"{token}", {"{token}"}, {}},
      {"Bearer {token}", {"Bearer {token}", "{token}", "Bearer"}, {"Bearer {token}", "Bearer"}},
      {"{a}{b}", {"{a}{b}"}, {"{a}{b}"}},
      {"x{token}", {"x{token}"}, {"x{token}"}},
      {"{token}x", {"{token}x"}, {"{token}x"}},
      {"{{token}}", {"{{token}}"}, {"{{token}}"}},
      {"{a b}", {"{a b}"}, {"{a b}"}},
      // Line breaks around a value or a word: masked with and without them.
      {"abc123\r\n", {"abc123\r\n", "abc123"}, {"abc123\r\n", "abc123"}},
      {"\r\nBearer abc1\r\n",
       {"\r\nBearer abc1\r\n", "Bearer abc1", "\r\nBearer", "Bearer", "abc1\r\n", "abc1"},
       {"\r\nBearer abc1\r\n", "Bearer abc1", "\r\nBearer", "Bearer", "abc1\r\n", "abc1"}},
      {"abc\n", {"abc\n"}, {"abc\n"}},
      {"{token}\n", {"{token}\n", "{token}"}, {"{token}\n"}},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(Of(row.value, HeaderValues::kSent), row.sent) << '"' << row.value << '"';
    EXPECT_EQ(Of(row.value, HeaderValues::kTemplates), row.templates) << '"' << row.value << '"';
  }
}

TEST(SecretsTest, GathersEveryValueLongestFirstWithoutRepeats) {
  const std::string_view values[] = {"Bearer abc123", "abc123", "Basic dXNlcjpwYXNz", "en"};
  EXPECT_EQ(HeaderSecrets(values, HeaderValues::kSent),
            (Secrets{"Basic dXNlcjpwYXNz", "Bearer abc123", "dXNlcjpwYXNz", "Bearer", "abc123",
                     "Basic"}));
  EXPECT_EQ(HeaderSecrets({}, HeaderValues::kSent), Secrets{});
}

}  // namespace
}  // namespace orchestrator

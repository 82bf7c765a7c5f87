#include "orchestrator/curl_command.h"

#include <fmt/format.h>
#include <strings.h>

#include <string>
#include <string_view>

#include "orchestrator/text.h"

namespace orchestrator {
namespace {

bool IsBare(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
}

bool IsPrintableAscii(char c) { return c >= 0x20 && c < 0x7f; }

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// A header value must not end the header early: no CR, LF or NUL (as the engine checks).
bool IsFieldValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// curl's seconds for a duration: 10, 2.5, 0.001.
std::string Seconds(Duration duration) {
  return fmt::format("{}", static_cast<double>(duration.count()) / 1000.0);
}

// printf's format that writes `bytes` exactly: `\` and `%` doubled, every byte outside
// printable ASCII as a three-digit octal escape.
std::string PrintfFormat(std::string_view bytes) {
  std::string format;
  for (const char c : bytes) {
    if (c == '\\') {
      format += "\\\\";
    } else if (c == '%') {
      format += "%%";
    } else if (IsPrintableAscii(c)) {
      format += c;
    } else {
      format += fmt::format("\\{:03o}", static_cast<unsigned char>(c));
    }
  }
  return format;
}

void AddWord(std::string& line, std::string_view word) {
  line += ' ';
  line += ShellWord(word);
}

}  // namespace

std::string ShellWord(std::string_view text) {
  if (text.empty()) return "''";
  bool bare = true;
  bool printable = true;
  for (const char c : text) {
    bare = bare && IsBare(c);
    printable = printable && IsPrintableAscii(c);
  }
  if (bare) return std::string(text);
  std::string word;
  if (printable) {
    word += '\'';
    for (const char c : text) {
      if (c == '\'') {
        word += "'\\''";
      } else {
        word += c;
      }
    }
    word += '\'';
    return word;
  }
  word += "$'";
  for (const char c : text) {
    if (c == '\\' || c == '\'') {
      word += '\\';
      word += c;
    } else if (IsPrintableAscii(c)) {
      word += c;
    } else {
      word += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    }
  }
  word += '\'';
  return word;
}

CurlCommand CurlCommandOf(const FetchRequest& request, const CurlCommandSettings& settings) {
  CurlCommand command;
  const HttpMethod method = request.method;
  if (method == HttpMethod::kHead && request.body) {
    command.problem = "a HEAD request cannot send a body";
    return command;
  }
  bool named_expect = false;
  bool named_content_type = false;
  std::string headers;
  for (std::size_t i = 0; i < request.headers.size(); ++i) {
    const auto& [name, value] = request.headers[i];
    if (!IsHttpToken(name)) {
      command.problem = fmt::format("header {} has an invalid name", i + 1);
      return command;
    }
    if (!IsFieldValue(value)) {
      command.problem = fmt::format("header {} has a line break or NUL in its value", name);
      return command;
    }
    named_expect = named_expect || EqualsIgnoringCase(name, "Expect");
    named_content_type = named_content_type || EqualsIgnoringCase(name, "Content-Type");
    // As the engine: "Name;" sends the header empty ("Name:" would remove curl's).
    headers += " -H";
    AddWord(headers, value.empty() ? name + ";" : name + ": " + value);
  }
  const bool with_body = request.body.has_value() || method == HttpMethod::kPost ||
                         method == HttpMethod::kPut || method == HttpMethod::kPatch;
  if (with_body && !named_expect) headers += " -H Expect:";
  if (with_body && !named_content_type) headers += " -H Content-Type:";

  std::string& line = command.line;
  const std::string_view body = request.body ? std::string_view(*request.body) : "";
  const bool body_from_stdin = with_body && body.find('\0') != std::string_view::npos;
  if (body_from_stdin) {
    line += "printf";
    AddWord(line, PrintfFormat(body));
    line += " | ";
  }
  line += "curl";
  // The engine's settings for every request: no globbing of [] and {} in the URL, the path
  // as is, redirects followed (10, http and https only), its User-Agent, timeouts.
  line += " --globoff --path-as-is --location --max-redirs 10 --proto =http,https";
  line += " --proto-redir =http,https";
  line += " --connect-timeout " + Seconds(request.connect_timeout);
  line += " --max-time " + Seconds(request.timeout);
  switch (settings.http_version) {
    case HttpVersion::kDefault:
      break;
    case HttpVersion::kHttp11:
      line += " --http1.1";
      break;
    case HttpVersion::kHttp2:
      line += " --http2";
      break;
  }
  if (settings.insecure) line += " --insecure";
  if (!settings.ca_file.empty()) {
    line += " --cacert";
    AddWord(line, settings.ca_file);
  }
  line += " --user-agent";
  AddWord(line, settings.user_agent);
  // curl's own methods: GET without a body, HEAD, POST; any other, and a GET with a body, a
  // custom one, as the engine sends them.
  const bool custom = method == HttpMethod::kPut || method == HttpMethod::kPatch ||
                      method == HttpMethod::kDelete || (method == HttpMethod::kGet && with_body);
  if (method == HttpMethod::kHead) line += " --head";
  if (custom) {
    line += " --request ";
    line += NameOf(method);
  }
  line += headers;
  if (with_body) {
    if (body_from_stdin) {
      line += " --data-binary @-";
    } else {
      line += " --data-raw";
      AddWord(line, body);
    }
  }
  line += " --url";
  AddWord(line, request.url);
  return command;
}

}  // namespace orchestrator

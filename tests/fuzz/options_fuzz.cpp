// libFuzzer target: the command line (ParseCommandLine).
//
// The bytes are split on '\0' into at most kMaxArgs arguments, after "orchestrator". If the
// first one starts with "ORCHESTRATOR_URL=", it is taken out and set as that variable for
// this call (the variable is unset otherwise, so the host's environment does not matter).
// Checked on every input:
//   - ParseCommandLine never throws (it promises so).
//   - A usage error, --help and --version come with a non-empty text.
//   - A run has only values the tool can run with: durations from 0 to a year (--retry-delay to 10
//   minutes), --timeout,
//     --connect-timeout above 0, --retries 0..100, --max-connections 1..100000, a --max-body
//     above 0 if given, and an http(s) URL with a host (CheckFetchUrl accepts it); no two
//     bodies, no HEAD with a body, no -H without a header name.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "orchestrator/duration.h"
#include "orchestrator/options.h"
#include "orchestrator/url.h"

namespace {

constexpr std::size_t kMaxArgs = 16;
constexpr std::string_view kUrlVariable = "ORCHESTRATOR_URL=";

[[noreturn]] void Fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "\noptions_fuzz: %s%s%s\n", what, detail.empty() ? "" : ": ",
               detail.c_str());
  __builtin_trap();
}

void CheckRun(const orchestrator::Options& o) {
  using orchestrator::Duration;
  const Duration year = std::chrono::hours(24 * 365);
  const auto in = [&](Duration d, Duration low) { return d >= low && d <= year; };
  if (!in(o.delay, Duration(0))) Fail("--delay out of range");
  if (!in(o.timeout, Duration(1))) Fail("--timeout out of range");
  if (!in(o.connect_timeout, Duration(1))) Fail("--connect-timeout out of range");
  if (o.retry_delay < Duration(0) || o.retry_delay > std::chrono::minutes(10)) {
    Fail("--retry-delay out of range (0 to 10 minutes)");
  }
  if (o.retries < 0 || o.retries > 100) Fail("--retries out of range");
  if (o.max_connections < 1 || o.max_connections > 100'000) Fail("--max-connections out of range");
  if (o.max_body && *o.max_body == 0) Fail("--max-body 0 accepted");
  const orchestrator::CheckResult url = orchestrator::CheckFetchUrl(o.url);
  if (const auto* problem = std::get_if<std::string>(&url)) {
    Fail("URL accepted for a run", *problem);
  }
  // The request flags: one body at most, none for a HEAD, header names that are names.
  const orchestrator::RequestFlags& r = o.request;
  if (r.body && !r.body_file.empty()) Fail("-d and --data-file both accepted");
  if (r.method == orchestrator::HttpMethod::kHead && (r.body || !r.body_file.empty())) {
    Fail("-X HEAD with a body accepted");
  }
  for (const orchestrator::Header& header : r.headers) {
    if (header.name.empty() || header.name.find_first_of(" :\t\r\n") != std::string::npos) {
      Fail("-H with a bad name accepted", header.name);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ::unsetenv("ORCHESTRATOR_URL");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args;
  {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    std::size_t start = 0;
    while (start <= bytes.size() && args.size() < kMaxArgs + 1) {
      std::size_t end = bytes.find('\0', start);
      if (end == std::string_view::npos) end = bytes.size();
      args.emplace_back(bytes.substr(start, end - start));
      start = end + 1;
    }
    if (size == 0) args.clear();
  }
  bool url_set = false;
  if (!args.empty() &&
      std::string_view(args.front()).substr(0, kUrlVariable.size()) == kUrlVariable) {
    ::setenv("ORCHESTRATOR_URL", args.front().c_str() + kUrlVariable.size(), 1);
    url_set = true;
    args.erase(args.begin());
  }
  if (args.size() > kMaxArgs) args.resize(kMaxArgs);

  std::vector<const char*> argv{"orchestrator"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  argv.push_back(nullptr);

  try {
    const orchestrator::CommandLine line =
        orchestrator::ParseCommandLine(static_cast<int>(argv.size() - 1), argv.data());
    switch (line.action) {
      case orchestrator::CommandLine::Action::kRun:
        CheckRun(line.options);
        break;
      case orchestrator::CommandLine::Action::kPrint:
        if (line.text.empty()) Fail("--help or --version printed nothing");
        break;
      case orchestrator::CommandLine::Action::kUsageError:
        if (line.text.empty()) Fail("usage error with no text");
        break;
      default:
        Fail("unknown action");
    }
  } catch (const std::exception& error) {
    Fail("ParseCommandLine threw", error.what());
  } catch (...) {
    Fail("ParseCommandLine threw a non-std exception");
  }
  if (url_set) ::unsetenv("ORCHESTRATOR_URL");
  return 0;
}

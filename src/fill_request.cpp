#include "orchestrator/fill_request.h"

#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "orchestrator/url.h"

namespace orchestrator {
namespace {

template <typename Values>
bool Fill(const FetchStep& step, const Values& values, FetchRequest& request, std::string& error) {
  request = FetchRequest{.url = {},
                         .timeout = step.timeout,
                         .connect_timeout = step.connect_timeout,
                         .method = step.method,
                         .headers = {},
                         .body = std::nullopt,
                         .expect = step.expect,
                         .max_body = step.max_body,
                         .keep = step.keep};
  if (!step.url.ExpandTo(request.url, std::cref(values), error)) return false;
  for (const Header& header : step.headers) {
    request.headers.emplace_back(header.name, std::string());
    if (!header.value.ExpandTo(request.headers.back().second, std::cref(values), error)) {
      return false;
    }
  }
  if (step.body) {
    request.body.emplace();
    if (!step.body->ExpandTo(*request.body, std::cref(values), error)) return false;
  }
  if (step.save) {
    if (!step.save->ExpandTo(request.save_to, std::cref(values), error)) return false;
    if (request.save_to.empty()) {  // a lone value that is empty: not "no file"
      error = "the file to save the body to is an empty path";
      return false;
    }
  }
  // A URL without placeholders was checked when the blueprint was read.
  if (step.url.has_placeholders()) {
    const CheckResult checked = CheckFetchUrl(request.url);
    if (const auto* problem = std::get_if<std::string>(&checked)) {
      error = "URL " + *problem;
      return false;
    }
  }
  return true;
}

}  // namespace

bool FillRequest(const FetchStep& step, const TaskValues& values, FetchRequest& request,
                 std::string& error) {
  return Fill(step, values, request, error);
}

bool FillRequest(const FetchStep& step, const std::function<TemplateValue(std::size_t)>& values,
                 FetchRequest& request, std::string& error) {
  return Fill(step, values, request, error);
}

}  // namespace orchestrator

#include "orchestrator/run_files.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>

namespace orchestrator {
namespace {

// Which file a RunFile is: a regular file's device and inode, or the resolved path a file
// not there yet will be created at. None for a file that is not regular (it may be shared).
struct Identity {
  dev_t device = 0;
  ino_t inode = 0;
  std::string created_at;  // when it does not exist yet

  bool operator==(const Identity&) const = default;
};

// The last part of a path ("" for one that ends in '/').
std::string_view FileName(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Where a path leads, its folders' links followed; empty when that cannot be known.
std::string Resolved(const std::string& path) {
  std::error_code error;
  const std::filesystem::path resolved =
      std::filesystem::weakly_canonical(std::filesystem::absolute(path, error), error);
  return error ? std::string() : resolved.string();
}

std::optional<Identity> IdentityOf(const RunFile& file) {
  struct stat status {};
  const int result =
      file.path.empty() ? ::fstat(file.fd, &status) : ::stat(file.path.c_str(), &status);
  if (result == 0) {
    if (!S_ISREG(status.st_mode)) return std::nullopt;
    return Identity{.device = status.st_dev, .inode = status.st_ino, .created_at = {}};
  }
  if (file.path.empty()) return std::nullopt;  // a descriptor that is closed
  std::string resolved = Resolved(file.path);
  if (resolved.empty()) return std::nullopt;  // it cannot be created either: opening it will say so
  return Identity{.device = 0, .inode = 0, .created_at = std::move(resolved)};
}

std::string Named(const RunFile& file) {
  return file.path.empty() ? file.role : fmt::format("{} \"{}\"", file.role, file.path);
}

bool Allowed(const RunFile& a, const RunFile& b) {
  return (a.role == "--output" && b.role == "--resume") ||
         (a.role == "--resume" && b.role == "--output") || (a.saved_body && b.saved_body);
}

}  // namespace

std::vector<RunFile> RunFilesOf(const Options& options, const BlueprintFile* blueprints) {
  std::vector<RunFile> files;
  const auto add = [&](const char* role, const std::string& path, bool written) {
    if (!path.empty()) files.push_back({.role = role, .path = path, .fd = -1, .written = written});
  };
  if (options.tasks_path == "-") {
    files.push_back({.role = "the tasks CSV (stdin)", .path = {}, .fd = STDIN_FILENO});
  } else {
    add("the tasks CSV", options.tasks_path, false);
  }
  add("--resume", options.resume_path, false);
  add("--blueprints", options.blueprints_path, false);
  add("--data-file", options.request.body_file, false);
  add("--output", options.output_path, true);
  add("--events", options.events_path, true);
  add("--metrics", options.metrics_path, true);
  add("--report-file", options.report_path, true);
  // A --save without placeholders is one file that every task writes.
  if (options.request.save && !options.request.save->has_placeholders()) {
    add("--save", options.request.save->source(), true);
    files.back().saved_body = true;
  }
  if (blueprints != nullptr) {
    for (const Blueprint& kind : blueprints->kinds) {
      for (const Step& step : kind.steps) {
        const auto* fetch = std::get_if<FetchStep>(&step.action);
        if (fetch == nullptr || !fetch->save || fetch->save->has_placeholders()) continue;
        files.push_back({.role = fmt::format("the save of {}'s step {}", kind.name, step.name),
                         .path = fetch->save->source(),
                         .fd = -1,
                         .written = true,
                         .saved_body = true});
      }
    }
  }
  files.push_back({.role = "stdout", .path = {}, .fd = STDOUT_FILENO, .written = true});
  return files;
}

CheckResult CheckDistinctFiles(const std::vector<RunFile>& files) {
  std::vector<std::optional<Identity>> identities;
  identities.reserve(files.size());
  for (const RunFile& file : files) identities.push_back(IdentityOf(file));
  for (std::size_t i = 0; i < files.size(); ++i) {
    for (std::size_t j = i + 1; j < files.size(); ++j) {
      if (!files[i].written && !files[j].written) continue;
      if (!identities[i] || !identities[j] || *identities[i] != *identities[j]) continue;
      if (Allowed(files[i], files[j])) continue;
      // The one written second in the message: "--output "r.csv" would overwrite the tasks CSV".
      const RunFile& writer = files[j].written ? files[j] : files[i];
      const RunFile& other = &writer == &files[j] ? files[i] : files[j];
      return fmt::format("{} and {} are the same file: {} would overwrite {}{}", Named(other),
                         Named(writer), writer.role, other.written ? "what " : "",
                         other.written ? other.role + " writes" : other.role);
    }
  }
  return kPassed;
}

RunFileGuard::RunFileGuard(const std::vector<RunFile>& files) {
  for (const RunFile& file : files) {
    if (file.saved_body) continue;
    Kept kept;
    kept.name = Named(file);
    struct stat status {};
    const int result =
        file.path.empty() ? ::fstat(file.fd, &status) : ::stat(file.path.c_str(), &status);
    if (result == 0 && S_ISREG(status.st_mode)) {
      kept.regular = true;
      kept.device = status.st_dev;
      kept.inode = status.st_ino;
    }
    if (!file.path.empty()) kept.resolved = Resolved(file.path);
    if (kept.regular || !kept.resolved.empty()) kept_.push_back(std::move(kept));
  }
}

std::optional<std::string> RunFileGuard::Claimed(const std::string& path) const {
  struct stat status {};
  if (::stat(path.c_str(), &status) == 0 && S_ISREG(status.st_mode)) {
    for (const Kept& kept : kept_) {
      if (kept.regular && kept.device == status.st_dev && kept.inode == status.st_ino) {
        return kept.name;
      }
    }
  }
  // A file not there yet, or made anew since (by rename, as --metrics is), can be the one
  // `path` names only under its own file name: resolving the path (a lstat and readlink a
  // folder) is left for that rare case, off the path of every saved body.
  const std::string_view name = FileName(path);
  if (std::none_of(kept_.begin(), kept_.end(),
                   [&](const Kept& kept) { return FileName(kept.resolved) == name; })) {
    return std::nullopt;
  }
  const std::string resolved = Resolved(path);
  if (resolved.empty()) return std::nullopt;
  for (const Kept& kept : kept_) {
    if (kept.resolved == resolved) return kept.name;
  }
  return std::nullopt;
}

std::optional<std::string> RunFileGuard::Refusal(const std::string& path) const {
  const std::optional<std::string> claimed = Claimed(path);
  if (!claimed) return std::nullopt;
  return fmt::format("\"{}\" would replace {}; the request was not sent", path, *claimed);
}

bool WritesTo(const std::vector<RunFile>& files, int fd) {
  struct stat target {};
  if (::fstat(fd, &target) != 0) return false;
  return std::any_of(files.begin(), files.end(), [&](const RunFile& file) {
    struct stat status {};
    return file.written && !file.path.empty() && ::stat(file.path.c_str(), &status) == 0 &&
           status.st_dev == target.st_dev && status.st_ino == target.st_ino;
  });
}

}  // namespace orchestrator

// What `orchestrator --version` prints: ours, the commit we were built from, and the libraries
// that decide how requests go out.
#ifndef ORCHESTRATOR_VERSION_TEXT_H_
#define ORCHESTRATOR_VERSION_TEXT_H_

#include <string>

namespace orchestrator {

/// As curl -V writes its own, without a newline at the end:
///   orchestrator 0.1.0 (git 83ae1ff)
///   libcurl 7.88.1 (OpenSSL/3.0.15, nghttp2/1.52.0, zlib/1.2.13)
///   Boost 1.81.0, toml++ 3.3.0, fmt 9.1.0, CLI11 2.1.2, OpenSSL 3.0.15
/// libcurl's and OpenSSL's versions are those of the libraries loaded, not of the headers
/// built against; the commit is the one CMake saw when it configured the build ("unknown"
/// outside a git checkout).
std::string VersionText();

}  // namespace orchestrator

#endif  // ORCHESTRATOR_VERSION_TEXT_H_

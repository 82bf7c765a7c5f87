#include "orchestrator/secrets.h"

#include <algorithm>

#include "orchestrator/text.h"

namespace orchestrator {
namespace {

constexpr std::size_t kShortest = 4;

// "{name}": a word that a -H template fills from the row.
bool IsOnePlaceholder(std::string_view word) {
  return word.size() >= 2 && word.front() == '{' && word.back() == '}' &&
         word.find_first_of("{} \t", 1) == word.size() - 1;
}

}  // namespace

std::vector<std::string> HeaderSecrets(std::span<const std::string_view> values,
                                       HeaderValues kind) {
  std::vector<std::string> secrets;
  const auto add = [&](std::string_view piece) {
    for (const std::string_view form : {piece, Trim(piece, kBlanksAndLineBreaks)}) {
      if (form.size() < kShortest) continue;
      if (kind == HeaderValues::kTemplates && IsOnePlaceholder(form)) continue;
      secrets.emplace_back(form);
    }
  };
  for (const std::string_view value : values) {
    const std::string_view whole = Trim(value);
    add(whole);
    std::size_t start = 0;
    while (start < whole.size()) {
      std::size_t end = whole.find_first_of(kBlanks, start);
      if (end == std::string_view::npos) end = whole.size();
      add(whole.substr(start, end - start));
      start = end + 1;
    }
  }
  // Longest first; equal lengths in order, so that repeats are neighbours.
  std::sort(secrets.begin(), secrets.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  return secrets;
}

}  // namespace orchestrator

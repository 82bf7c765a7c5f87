#include "parse_error_words.h"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "orchestrator/input_error.h"

namespace orchestrator {
namespace {

// Levenshtein's distance between `a` and `b`: the fewest edits of one character.
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The long option `given` was probably meant to be: the closest within 2 edits, else the
// shortest one it begins; none otherwise.
std::optional<std::string> ClosestLongOption(const CLI::App& app, std::string_view given) {
  std::optional<std::string> closest;
  std::size_t closest_distance = 3;
  std::optional<std::string> extended;
  for (const CLI::Option* option : app.get_options()) {
    for (const std::string& name : option->get_lnames()) {
      const std::string flag = "--" + name;
      const std::size_t distance = EditDistance(given, flag);
      if (distance < closest_distance) {
        closest = flag;
        closest_distance = distance;
      }
      if (given.size() > 3 && flag.starts_with(given) &&
          (!extended || flag.size() < extended->size())) {
        extended = flag;
      }
    }
  }
  return closest ? closest : extended;
}

// An option's name as typed, quoted only when it has more than letters, digits, - . and _.
std::string ShownName(std::string_view name) {
  const bool plain = std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
  });
  return plain && name.size() <= 80 ? std::string(name) : QuoteForMessage(name, 80);
}

std::string UnknownOption(const CLI::App& app, std::string_view given) {
  const std::string_view name = given.substr(0, given.find('='));
  // -url for --url: a long name with one dash.
  const std::string as_long = name.starts_with("--") ? std::string(name) : "-" + std::string(name);
  const std::optional<std::string> meant =
      name.size() > 2 ? ClosestLongOption(app, as_long) : std::nullopt;
  const std::string shown = ShownName(name);
  if (!meant) return fmt::format("unknown option {}", shown);
  return fmt::format("unknown option {} (did you mean {}?)", shown, *meant);
}

// The option whose value is missing: the last argument, which ran out of words.
std::string OptionMissingItsValue(const CLI::App& app, int argc, const char* const* argv) {
  const std::string_view last = argc > 1 ? argv[argc - 1] : "";
  std::string flag(last);
  if (!last.starts_with("--") && last.size() > 2) flag = std::string("-") + last.back();
  const CLI::Option* option = app.get_option_no_throw(flag);
  if (option == nullptr) return fmt::format("{} needs a value", ShownName(flag));
  return fmt::format("{} needs a value ({})", option->get_name(), option->get_type_name());
}

// A flag given a value CLI11 cannot read as true or false (--quiet=abc).
std::string FlagWithAValue(const CLI::App& app, int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    const std::size_t equals = arg.find('=');
    if (!arg.starts_with("--") || equals == std::string_view::npos) continue;
    const CLI::Option* option = app.get_option_no_throw(std::string(arg.substr(0, equals)));
    if (option != nullptr && option->get_expected_max() == 0) {
      return fmt::format("{} is a flag: it takes no value, or true or false, not {}",
                         option->get_name(), QuoteForMessage(arg.substr(equals + 1), 80));
    }
  }
  return {};
}

}  // namespace

FirstAsked HelpOrVersionAsked(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h") return FirstAsked::kHelp;
    if (arg == "--version" || arg == "-V") return FirstAsked::kVersion;
  }
  return FirstAsked::kNothing;
}

std::string ParseErrorWords(const CLI::App& app, const CLI::ParseError& error, int argc,
                            const char* const* argv) {
  if (dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr) {
    const std::vector<std::string> extras = app.remaining();
    for (const std::string& extra : extras) {
      if (extra.size() > 1 && extra.front() == '-') return UnknownOption(app, extra);
    }
    if (!extras.empty()) {
      std::vector<std::string> positionals;
      for (const CLI::Option* option : app.get_options()) {
        if (option->get_positional()) positionals.push_back(option->get_name(true));
      }
      return fmt::format("unexpected argument {} (takes one {} at most)",
                         QuoteForMessage(extras.front(), 200), fmt::join(positionals, ", "));
    }
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&error) != nullptr) {
    for (const CLI::Option* option : app.get_options()) {
      if (option->count() > 1 && option->get_items_expected_max() == 1) {
        return fmt::format("{} given twice", option->get_name());
      }
    }
    return OptionMissingItsValue(app, argc, argv);
  }
  if (dynamic_cast<const CLI::RequiredError*>(&error) != nullptr) {
    for (const CLI::Option* option : app.get_options()) {
      if (option->get_required() && option->count() == 0) {
        return fmt::format("{} is required", option->get_name(true));
      }
    }
  }
  if (dynamic_cast<const CLI::ConversionError*>(&error) != nullptr) {
    if (std::string flag = FlagWithAValue(app, argc, argv); !flag.empty()) return flag;
  }
  // A ValidationError is "NAME: " and our own words (WholeNumberIn).
  return error.what();
}

CLI::Validator WholeNumberIn(long long min, long long max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        long long number = 0;
        const char* end = text.data() + text.size();
        const auto [stop, problem] = std::from_chars(text.data(), end, number);
        if (problem == std::errc() && stop == end && number >= min && number <= max) return {};
        return fmt::format("must be a whole number from {} to {}, not {}", min, max,
                           QuoteForMessage(text, 80));
      },
      fmt::format("INT in [{} - {}]", min, max));
}

}  // namespace orchestrator

// CLI11's parse of a command line, in our words: its errors as messages that say what to do,
// --help and --version wherever they stand, whole numbers in a range.
#ifndef ORCHESTRATOR_PARSE_ERROR_WORDS_H_
#define ORCHESTRATOR_PARSE_ERROR_WORDS_H_

#include <CLI/CLI.hpp>
#include <string>

namespace orchestrator {

/// What a command line asks for before anything else: --help (or -h) or --version, in any
/// position before a "--".
enum class FirstAsked { kNothing, kHelp, kVersion };
FirstAsked HelpOrVersionAsked(int argc, const char* const* argv);

/// The message for `error`, which app.parse threw: "unknown option --dealy (did you mean
/// --delay?)", "--url given twice", "--delay needs a value (DURATION)", "unexpected argument
/// \"b.csv\" (...)", "FILE is required". argv is what app parsed.
std::string ParseErrorWords(const CLI::App& app, const CLI::ParseError& error, int argc,
                            const char* const* argv);

/// A check of an option's text: a whole number from `min` to `max`, said in our words when
/// it is not ("must be a whole number from 0 to 100, not \"abc\"").
CLI::Validator WholeNumberIn(long long min, long long max);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_PARSE_ERROR_WORDS_H_

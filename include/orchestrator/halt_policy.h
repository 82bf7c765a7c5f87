// When a run gives up on its remaining tasks: GNU parallel's --halt, in its words.
#ifndef ORCHESTRATOR_HALT_POLICY_H_
#define ORCHESTRATOR_HALT_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace orchestrator {

/// `--halt soon,fail=N`, `--halt soon,fail=P%`, `--halt now,fail=N`...: after enough failures
/// start nothing new (soon), or also stop what runs (now). Failures are tasks that ran and
/// failed: a task failed by its dependency never ran and does not count.
struct HaltPolicy {
  enum class When : std::uint8_t {
    kNever,  ///< the default: every task runs whatever fails
    kSoon,   ///< start nothing new; what runs finishes
    kNow,    ///< start nothing new and stop what runs
  };
  When when = When::kNever;
  std::uint64_t failures = 0;     ///< halt at this many failures (when percent is not set)
  std::optional<double> percent;  ///< halt when this % of the tasks ended so far failed
  /// A percentage is judged only once this many tasks have ended.
  static constexpr std::uint64_t kPercentAfter = 10;

  /// Whether a run with these counts so far halts now.
  bool Reached(std::uint64_t failed, std::uint64_t ended) const;
};

/// Parses the value of --halt: `never`, or `soon|now,fail=N` (N >= 1) or `soon|now,fail=P%`
/// (0 < P <= 100). Returns the policy or a message saying what is wrong.
std::variant<HaltPolicy, std::string> ParseHaltPolicy(std::string_view text);

}  // namespace orchestrator

#endif  // ORCHESTRATOR_HALT_POLICY_H_

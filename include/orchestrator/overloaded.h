// An overload set of lambdas, for std::visit: every alternative of a variant handled in one
// place, and a new alternative a compile error wherever it is not.
#ifndef ORCHESTRATOR_OVERLOADED_H_
#define ORCHESTRATOR_OVERLOADED_H_

namespace orchestrator {

/// `std::visit(Overloaded{[](const A&) {...}, [](const B&) {...}}, variant)`.
template <typename... Handlers>
struct Overloaded : Handlers... {
  using Handlers::operator()...;
};
template <typename... Handlers>
Overloaded(Handlers...) -> Overloaded<Handlers...>;

}  // namespace orchestrator

#endif  // ORCHESTRATOR_OVERLOADED_H_

// Overloaded: one callable out of several lambdas, for std::visit over a
// variant (`std::visit(Overloaded{[](const A&) {...}, [](const B&) {...}}, v)`).
#pragma once

namespace core {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
// Spelled out for clang 14 (the fuzz build), which does not deduce aggregates.
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace core

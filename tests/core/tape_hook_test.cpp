// BackwardOptions::on_leaf_grad_final: each leaf is reported once, after
// the last contribution to its gradient, even when several ops read it.
#include <gtest/gtest.h>

#include <map>

#include "core/tape.h"
#include "ops/binary.h"
#include "ops/reduce.h"

namespace core {
namespace {

Tensor leaf(const Shape& s, std::vector<double> v) {
  Tensor t = Tensor::from_vector(s, v, DType::f64);
  t.set_requires_grad();
  return t;
}

TEST(TapeHook, LeavesAreReportedOnceWithTheirFinalGradient) {
  // y = sum(x * w) + sum(x * x) + sum(w): x is read by two ops, w by two.
  Tensor x = leaf({2}, {3, -1}), w = leaf({2}, {2, 5}), unused = leaf({1}, {1});
  Tape tape;
  Tensor y = ops::add(tape, ops::add(tape, ops::sum(tape, ops::mul(tape, x, w)), ops::sum(tape, ops::mul(tape, x, x))),
                      ops::sum(tape, w));
  std::map<const AutogradMeta*, std::vector<double>> seen;
  std::vector<const AutogradMeta*> order;
  BackwardOptions options;
  options.on_leaf_grad_final = [&](const Tensor& t) {
    EXPECT_EQ(seen.count(&t.autograd_meta()), 0u) << "reported twice";
    seen[&t.autograd_meta()] = t.grad().to_double_vector();
    order.push_back(&t.autograd_meta());
  };
  tape.backward(y, options);
  ASSERT_EQ(seen.size(), 2u);  // `unused` is read by no op: not reported
  // What the hook saw is the final gradient: dy/dx = w + 2x, dy/dw = x + 1.
  EXPECT_EQ(seen[&x.autograd_meta()], x.grad().to_double_vector());
  EXPECT_EQ(seen[&w.autograd_meta()], w.grad().to_double_vector());
  EXPECT_EQ(x.grad().to_double_vector(), (std::vector<double>{8, 3}));
  EXPECT_EQ(w.grad().to_double_vector(), (std::vector<double>{4, 0}));
  // x and w are both first read by the first op, so both finish at its end.
  EXPECT_EQ(order.size(), 2u);
}

TEST(TapeHook, ALeafReadOnlyLateIsReportedEarly) {
  // a is read by the first op, b only by the last: b's gradient is final
  // first in reverse order.
  Tensor a = leaf({2}, {1, 2}), b = leaf({2}, {3, 4});
  Tape tape;
  Tensor y = ops::sum(tape, ops::mul(tape, ops::mul_scalar(tape, a, 2.0), b));
  std::vector<const AutogradMeta*> order;
  BackwardOptions options;
  options.on_leaf_grad_final = [&](const Tensor& t) { order.push_back(&t.autograd_meta()); };
  tape.backward(y, options);
  EXPECT_EQ(order, (std::vector<const AutogradMeta*>{&b.autograd_meta(), &a.autograd_meta()}));
}

}  // namespace
}  // namespace core

// Synchronised batch norm: two replicas (threads) with half a batch each
// give the full batch's output, input gradient and running statistics, and
// their parameter gradients add up to the full batch's.
#include <barrier>
#include <thread>

#include "ops/batch_norm2d.h"
#include "tests/ops/cnn_test_util.h"

namespace ops {
namespace {

using namespace cnn_test;

// A sum over two threads: each posts its values, both read the total.
class TwoReplicaSum {
 public:
  void sum(int replica, double* values, std::size_t count) {
    posted_[replica].assign(values, values + count);
    rendezvous_.arrive_and_wait();
    for (std::size_t i = 0; i < count; ++i) values[i] = posted_[0][i] + posted_[1][i];
    rendezvous_.arrive_and_wait();  // nobody posts again before both have read
  }

 private:
  std::barrier<> rendezvous_{2};
  std::vector<double> posted_[2];
};

Tensor half(const Tensor& t, int which) {
  const auto v = t.to_double_vector();
  Shape s = t.shape();
  s[0] /= 2;
  const auto n = static_cast<std::ptrdiff_t>(v.size() / 2);
  return Tensor::from_vector(s, std::vector<double>(v.begin() + which * n, v.begin() + (which + 1) * n), t.dtype());
}

std::vector<double> joined(const Tensor& a, const Tensor& b) {
  auto v = a.to_double_vector();
  const auto w = b.to_double_vector();
  v.insert(v.end(), w.begin(), w.end());
  return v;
}

void expect_near_all(const std::vector<double>& got, const std::vector<double>& want, double tol, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << what << " at " << i;
}

struct Replica {
  Tensor x, weight, bias, y, running_mean, running_var;
};

TEST(BatchNormSync, TwoHalfBatchesEqualTheWholeBatch) {
  const Shape shape{4, 3, 5, 6};
  const Tensor x = rand64(shape, 21, -0.5, 2.0), g = rand64(shape, 22);
  const Tensor weight = rand64({3}, 23, 0.5, 1.5), bias = rand64({3}, 24);
  const Tensor mean = rand64({3}, 25), var = rand64({3}, 26, 0.2, 2.0);

  auto leaf = [](const Tensor& t) {
    Tensor c = t.clone();
    c.set_requires_grad();
    return c;
  };
  // The whole batch, unsynchronised.
  Replica whole{leaf(x), leaf(weight), leaf(bias)};
  {
    Tape tape;
    auto r = batch_norm2d(tape, whole.x, whole.weight, whole.bias, mean, var, {});
    whole.running_mean = r.running_mean;
    whole.running_var = r.running_var;
    tape.backward(r.y, g);
    whole.y = r.y;
  }

  TwoReplicaSum sum;
  Replica part[2];
  auto run = [&](int k) {
    Replica& p = part[k];
    p = {leaf(half(x, k)), leaf(weight), leaf(bias)};
    BatchNorm2dParams params;
    params.sync = [&sum, k](double* v, std::size_t n) { sum.sum(k, v, n); };
    Tape tape;
    auto r = batch_norm2d(tape, p.x, p.weight, p.bias, mean, var, params);
    p.running_mean = r.running_mean;
    p.running_var = r.running_var;
    p.y = r.y;
    tape.backward(r.y, half(g, k));
  };
  std::thread other(run, 1);
  run(0);
  other.join();

  const double tol = 1e-10;
  expect_near_all(joined(part[0].y, part[1].y), whole.y.to_double_vector(), tol, "y");
  expect_near_all(joined(part[0].x.grad(), part[1].x.grad()), whole.x.grad().to_double_vector(), tol, "dx");
  for (int k = 0; k < 2; ++k) {
    expect_near_all(part[k].running_mean.to_double_vector(), whole.running_mean.to_double_vector(), tol, "mean");
    expect_near_all(part[k].running_var.to_double_vector(), whole.running_var.to_double_vector(), tol, "var");
  }
  const auto dw0 = part[0].weight.grad().to_double_vector(), dw1 = part[1].weight.grad().to_double_vector();
  const auto db0 = part[0].bias.grad().to_double_vector(), db1 = part[1].bias.grad().to_double_vector();
  const auto dw = whole.weight.grad().to_double_vector(), db = whole.bias.grad().to_double_vector();
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(dw0[c] + dw1[c], dw[c], tol);
    EXPECT_NEAR(db0[c] + db1[c], db[c], tol);
    // Each replica's share differs from the whole: the sum is not trivial.
    EXPECT_GT(std::abs(dw0[c] - dw[c]), 1e-6);
  }
}

TEST(BatchNormSync, OneReplicaMatchesFiniteDifferences) {
  const Shape shape{2, 3, 4, 5};
  BatchNorm2dParams params;
  params.sync = [](double*, std::size_t) {};  // a single replica: nothing to add
  const Tensor mean = rand64({3}, 31), var = rand64({3}, 32, 0.2, 2.0);
  expect_gradcheck(
      [mean, var, params](Tape& t, const std::vector<Tensor>& in) {
        return batch_norm2d(t, in[0], in[1], in[2], mean, var, params).y;
      },
      {rand64(shape, 33, -0.5, 2.0), rand64({3}, 34, 0.5, 1.5), rand64({3}, 35)});
}

}  // namespace
}  // namespace ops

// Small builders shared by the yolo_loss tests: a case (attributes and
// inputs), running it through the tape, and element access in NCHW.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tape.h"
#include "ops/yolo_loss.h"

namespace ops::yolo_test {

using core::DType;
using core::Shape;

struct Case {
  YoloLossParams p;
  Tensor x, box, label, score;  // score undefined: all ones
};

struct Result {
  YoloLossOutputs out;  // parts always filled
  Tensor dx;            // for dloss (default: ones)
};

inline Tensor f64(const Shape& s, const std::vector<double>& v) { return Tensor::from_vector(s, v, DType::f64); }

inline std::int64_t flat(const Tensor& t, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
  return ((n * t.size(1) + c) * t.size(2) + h) * t.size(3) + w;
}
inline double at(const Tensor& t, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
  return t.to_double_vector()[flat(t, n, c, h, w)];
}
inline void set(const Tensor& t, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, double v) {
  t.mutable_data<double>()[flat(t, n, c, h, w)] = v;
}

// Forward and backward through the tape, in the given dtype.
inline Result run(const Case& c, DType dtype = DType::f64, Tensor dloss = Tensor()) {
  Tensor x = c.x.to(dtype);
  x.set_requires_grad();
  Tape tape;
  Result r;
  r.out = yolo_loss(tape, x, c.box.to(dtype), c.label, c.p, c.score.defined() ? c.score.to(dtype) : Tensor(), true);
  if (!dloss.defined()) dloss = Tensor::ones(r.out.loss.shape(), dtype);
  tape.backward(r.out.loss, dloss.to(dtype));
  r.dx = x.grad().defined() ? x.grad() : Tensor::zeros(x.shape(), dtype);
  return r;
}

// The worked example (docs/yolo_loss.md, 'The worked example'): N=1, H=W=2, anchors [10,13, 16,30], mask [0,1], C=1,
// ratio 8, ignore 0.3, one gt (0.3, 0.6, 0.5, 0.8) of class 0.
inline Case worked_example() {
  Case c;
  c.p = {{10, 13, 16, 30}, {0, 1}, 1, 0.3, 8, true, 1.0};
  c.x = Tensor::zeros({1, 12, 2, 2}, DType::f64);
  set(c.x, 0, 4, 1, 0, 1.0);   // slot 0 objectness at row 1, col 0
  set(c.x, 0, 2, 1, 0, -0.5);  // slot 0 tw at row 1, col 0
  c.box = f64({1, 1, 4}, {0.3, 0.6, 0.5, 0.8});
  c.label = Tensor::from_ints({1, 1}, {0});
  return c;
}

}  // namespace ops::yolo_test

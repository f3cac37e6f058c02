// The yolo_loss conformance runner. Every case runs in float64; cases marked
// float32_safe (every discrete decision has margin) also run in float32.
// Each run goes through the tape exactly as training does: forward, then
// backward seeded with the case's dloss.
//
// Error measures and tolerances (docs/yolo_loss.md, 'Conformance files'):
//   loss: max_i |got_i - want_i| / max(|want_i|, 1e-6 * max|want|)
//   dx:   max |got - want| / max |want|
//   float64 <= 1e-10 for both; float32 loss <= 1e-5, dx <= 1e-4;
//   gt_match_mask exactly equal, objectness_mask within 1e-6 absolute.
#include "tools/yolo/conformance_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/tape.h"
#include "ops/yolo_loss.h"
#include "tools/yolo/yolo_loss_vectors.h"

namespace yolo {

using core::DType;
using core::Tensor;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Tolerance {
  double loss, dx;
};
constexpr double kMaskAbsTol = 1e-6;

// |got - want| / denom, where equal values (NaN included) count as exact and
// any other difference over a zero denominator or involving NaN as infinite.
double scaled_error(double got, double want, double denom) {
  if (got == want || (std::isnan(got) && std::isnan(want))) return 0.0;
  const double diff = std::abs(got - want);
  if (std::isnan(diff) || denom == 0.0) return kInf;
  return diff / denom;
}

double max_abs(const std::vector<double>& v) {
  double m = 0.0;
  for (double e : v) m = std::max(m, std::abs(e));
  return m;
}

double loss_error(const std::vector<double>& got, const std::vector<double>& want) {
  const double floor = 1e-6 * max_abs(want);
  double err = 0.0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    err = std::max(err, scaled_error(got[i], want[i], std::max(std::abs(want[i]), floor)));
  }
  return err;
}

double dx_error(const std::vector<double>& got, const std::vector<double>& want) {
  const double scale = max_abs(want);
  double err = 0.0;
  for (std::size_t i = 0; i < want.size(); ++i) err = std::max(err, scaled_error(got[i], want[i], scale));
  return err;
}

double mask_error(const std::vector<double>& got, const std::vector<double>& want) {
  double err = 0.0;
  for (std::size_t i = 0; i < want.size(); ++i) err = std::max(err, scaled_error(got[i], want[i], 1.0));
  return err;
}

std::size_t match_mismatches(const std::vector<std::int32_t>& got, const std::vector<std::int32_t>& want) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < want.size(); ++i) bad += got[i] != want[i];
  return bad;
}

// Runs one case in one dtype; returns whether it passed and prints its line.
bool run_case(const YoloLossCase& c, DType dtype, std::ostream& out) {
  const Tolerance tol = dtype == DType::f64 ? Tolerance{1e-10, 1e-10} : Tolerance{1e-5, 1e-4};
  const char* dtype_name = dtype == DType::f64 ? "float64" : "float32";
  try {
    Tensor x = c.x.to(dtype);
    x.set_requires_grad();
    const Tensor score = c.gt_score.defined() ? c.gt_score.to(dtype) : Tensor();
    core::Tape tape;
    const ops::YoloLossOutputs got = ops::yolo_loss(tape, x, c.gt_box.to(dtype), c.gt_label, c.params, score);
    tape.backward(got.loss, c.dloss.to(dtype));
    Tensor dx = x.grad();
    if (!dx.defined()) dx = Tensor::zeros(x.shape(), dtype);

    if (got.loss.shape() != c.want_loss.shape() || got.objectness_mask.shape() != c.want_objectness_mask.shape() ||
        got.gt_match_mask.shape() != c.want_gt_match_mask.shape() || dx.shape() != c.want_dx.shape()) {
      throw core::ShapeError(fmt::format(
          "output shapes loss {} objectness_mask {} gt_match_mask {} dx {} differ from the expected {} {} {} {}",
          core::shape_str(got.loss.shape()), core::shape_str(got.objectness_mask.shape()),
          core::shape_str(got.gt_match_mask.shape()), core::shape_str(dx.shape()),
          core::shape_str(c.want_loss.shape()), core::shape_str(c.want_objectness_mask.shape()),
          core::shape_str(c.want_gt_match_mask.shape()), core::shape_str(c.want_dx.shape())));
    }
    const double e_loss = loss_error(got.loss.to_double_vector(), c.want_loss.to_double_vector());
    const double e_dx = dx_error(dx.to_double_vector(), c.want_dx.to_double_vector());
    const double e_mask = mask_error(got.objectness_mask.to_double_vector(), c.want_objectness_mask.to_double_vector());
    const std::size_t bad_match = match_mismatches(got.gt_match_mask.to_int_vector(), c.want_gt_match_mask.to_int_vector());
    const bool ok = e_loss <= tol.loss && e_dx <= tol.dx && e_mask <= kMaskAbsTol && bad_match == 0;
    out << fmt::format("{} {} {}: loss {:.3g} (tol {:.0e}), dx {:.3g} (tol {:.0e}), objectness_mask {:.3g}, "
                       "gt_match_mask {} mismatched\n",
                       ok ? "PASS" : "FAIL", c.name, dtype_name, e_loss, tol.loss, e_dx, tol.dx, e_mask, bad_match);
    return ok;
  } catch (const std::exception& e) {
    out << fmt::format("FAIL {} {}: {}\n", c.name, dtype_name, e.what());
    return false;
  }
}

}  // namespace

int run_conformance_command(const ConformanceArgs& args, std::ostream& out) {
  if (args.op != "yolo_loss") {
    throw core::ValueError(fmt::format("conformance: no conformance vectors are defined for op '{}' (known: yolo_loss)",
                                       args.op));
  }
  const YoloLossVectorFile file = read_yolo_loss_vectors(args.file);
  std::size_t passed = 0, failed = 0;
  for (const auto& reason : file.unreadable) {
    out << fmt::format("FAIL {}\n", reason);
    ++failed;
  }
  for (const auto& c : file.cases) {
    (run_case(c, DType::f64, out) ? passed : failed) += 1;
    if (c.float32_safe) (run_case(c, DType::f32, out) ? passed : failed) += 1;
  }
  out << fmt::format("{} passed, {} failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace yolo

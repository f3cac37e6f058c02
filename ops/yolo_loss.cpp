// yolo_loss forward and backward kernels and the differentiable entry point
// that records them on the tape.
//
// The kernels follow the original's operation order term by term, so float64
// results match the reference to the last bits and float32 ones closely. The
// float32 path deliberately keeps the original's mixed precision: its double
// literals make parts of SCE, sigmoid and the box weight run in double before
// rounding back to float (docs/yolo_loss.md, "What the kernels reproduce").
// Writing those expressions with the same literal types below reproduces
// that for free; do not "clean them up".
//
// Indexing is the flat one docs/yolo_loss.md gives. Validation guarantees
// every valid gt's cell lies inside the grid, so the flat index never aliases.
#include "ops/yolo_loss.h"

#include <fmt/format.h>

#include <cassert>
#include <cmath>

#include "core/error.h"
#include "ops/registrations.h"

namespace ops {

using core::DType;

namespace {

// ---- primitives ------------------------------------------------------------

template <class T>
T sigmoid(T v) {
  return static_cast<T>(1.0 / (1.0 + std::exp(-v)));
}

// BCE with logits, stable form; the `0.0` and `1.0 +` promote to double.
template <class T>
T sce(T v, T y) {
  return static_cast<T>((v > 0 ? v : 0.0) - v * y + std::log(1.0 + std::exp(-std::abs(v))));
}

template <class T>
T sce_grad(T v, T y) {
  return static_cast<T>(1.0 / (1.0 + std::exp(-v)) - y);
}

template <class T>
T l1(T v, T y) {
  return std::abs(y - v);
}

// The kink v == y gets -1, as in the original (docs/yolo_loss.md).
template <class T>
T l1_grad(T v, T y) {
  return v > y ? T(1) : T(-1);
}

template <class T>
struct Box {
  T x, y, w, h;
};

// Written with explicit comparisons rather than std::min/max so NaN flows the
// same way as in the original.
template <class T>
T overlap(T c1, T w1, T c2, T w2) {
  const T l1 = static_cast<T>(c1 - w1 / 2.0);
  const T l2 = static_cast<T>(c2 - w2 / 2.0);
  const T left = l1 > l2 ? l1 : l2;
  const T r1 = static_cast<T>(c1 + w1 / 2.0);
  const T r2 = static_cast<T>(c2 + w2 / 2.0);
  const T right = r1 < r2 ? r1 : r2;
  return right - left;
}

// No epsilon: a zero union gives NaN, which never wins a comparison.
template <class T>
T box_iou(const Box<T>& a, const Box<T>& b) {
  const T ow = overlap(a.x, a.w, b.x, b.w);
  const T oh = overlap(a.y, a.h, b.y, b.h);
  const T inter = (ow < 0 || oh < 0) ? T(0) : ow * oh;
  const T uni = a.w * a.h + b.w * b.h - inter;
  return inter / uni;
}

// The original's padding test: against the double constant, so NaN is "valid".
template <class T>
bool gt_valid(const T* b) {
  return !(static_cast<double>(b[2]) < 1e-6 || static_cast<double>(b[3]) < 1e-6);
}

// ---- everything derived from the attributes ------------------------------

template <class T>
struct Setup {
  std::int64_t n, slots, h, w, rows, class_num;
  std::int64_t stride, an_stride, input_size;
  std::vector<std::int64_t> anchors, mask;
  float scale, bias;  // float32, as the original's attributes
  T thresh, pos, neg;

  Setup(const Tensor& x, const Tensor& gt_box, const YoloLossParams& p)
      : n(x.size(0)), slots(static_cast<std::int64_t>(p.anchor_mask.size())), h(x.size(2)), w(x.size(3)),
        rows(gt_box.size(1)), class_num(p.class_num), stride(h * w), an_stride((5 + class_num) * stride),
        input_size(p.downsample_ratio * h), anchors(p.anchors), mask(p.anchor_mask),
        scale(static_cast<float>(p.scale_x_y)), bias(static_cast<float>(-0.5 * (scale - 1.))),
        thresh(static_cast<T>(static_cast<float>(p.ignore_thresh))), pos(1), neg(0) {
    if (p.use_label_smooth) {
      // min(1/C, 1/40), evaluated in double and rounded to T (docs/yolo_loss.md).
      const T smooth = static_cast<T>(std::min(1.0 / static_cast<T>(class_num), 1.0 / 40));
      pos = static_cast<T>(1.0 - smooth);
      neg = smooth;
    }
  }

  // Flat index of entry e of slot s at cell hw of image i.
  std::int64_t entry(std::int64_t i, std::int64_t s, std::int64_t e, std::int64_t hw) const {
    return (i * slots + s) * an_stride + e * stride + hw;
  }

  // Shape-only match over ALL anchors; IoU rounded to float32, first max wins.
  std::int64_t best_anchor(T gw, T gh) const {
    const Box<T> gt{T(0), T(0), gw, gh};
    T best_iou = 0;
    std::int64_t best_n = 0;
    for (std::int64_t a = 0; a < static_cast<std::int64_t>(anchors.size() / 2); ++a) {
      const Box<T> an{T(0), T(0), static_cast<T>(anchors[2 * a]) / static_cast<T>(input_size),
                      static_cast<T>(anchors[2 * a + 1]) / static_cast<T>(input_size)};
      const float iou = static_cast<float>(box_iou(an, gt));
      if (iou > best_iou) {
        best_iou = iou;
        best_n = a;
      }
    }
    return best_n;
  }

  // First slot holding the anchor, or -1 (duplicates: the first wins).
  std::int64_t slot_of(std::int64_t anchor) const {
    for (std::int64_t s = 0; s < slots; ++s) {
      if (mask[s] == anchor) return s;
    }
    return -1;
  }
};

// Location targets and weight of one positive gt.
template <class T>
struct Target {
  std::int64_t gi, gj;
  T tx, ty, tw, th, weight;
};

template <class T>
Target<T> make_target(const Setup<T>& st, const T* b, std::int64_t anchor, T score) {
  Target<T> tg;
  tg.gi = static_cast<std::int64_t>(static_cast<int>(b[0] * static_cast<T>(st.w)));
  tg.gj = static_cast<std::int64_t>(static_cast<int>(b[1] * static_cast<T>(st.h)));
  assert(tg.gi >= 0 && tg.gi < st.w && tg.gj >= 0 && tg.gj < st.h);
  // Both centres scale by H (== W), as in the original.
  tg.tx = b[0] * static_cast<T>(st.h) - static_cast<T>(tg.gi);
  tg.ty = b[1] * static_cast<T>(st.h) - static_cast<T>(tg.gj);
  tg.tw = std::log(b[2] * static_cast<T>(st.input_size) / static_cast<T>(st.anchors[2 * anchor]));
  tg.th = std::log(b[3] * static_cast<T>(st.input_size) / static_cast<T>(st.anchors[2 * anchor + 1]));
  // (2 - w*h) * score in double, then T: the original's literal 2.0.
  tg.weight = static_cast<T>((2.0 - b[2] * b[3]) * score);
  return tg;
}

// ---- forward ---------------------------------------------------------------

// The valid gts of one image as edges and areas (a struct of arrays), so the
// ignore pass's inner loop vectorises. Each value is computed exactly as
// box_iou computes it for its second box: results do not change.
template <class T>
struct GtEdges {
  std::vector<T> left, right, top, bottom, area;
  void add(const T* b) {
    left.push_back(static_cast<T>(b[0] - b[2] / 2.0));
    right.push_back(static_cast<T>(b[0] + b[2] / 2.0));
    top.push_back(static_cast<T>(b[1] - b[3] / 2.0));
    bottom.push_back(static_cast<T>(b[1] + b[3] / 2.0));
    area.push_back(b[2] * b[3]);
  }
};

// max(0, box_iou(pred, gt) over all gts), folded with `>` as the original
// does, so NaN IoUs never win. scratch holds one value per gt.
template <class T>
T best_iou(const Box<T>& pred, const GtEdges<T>& g, T* scratch) {
  const T l1 = static_cast<T>(pred.x - pred.w / 2.0), r1 = static_cast<T>(pred.x + pred.w / 2.0);
  const T t1 = static_cast<T>(pred.y - pred.h / 2.0), b1 = static_cast<T>(pred.y + pred.h / 2.0);
  const T a1 = pred.w * pred.h;
  const std::size_t n = g.area.size();
  for (std::size_t j = 0; j < n; ++j) {
    const T ow = (r1 < g.right[j] ? r1 : g.right[j]) - (l1 > g.left[j] ? l1 : g.left[j]);
    const T oh = (b1 < g.bottom[j] ? b1 : g.bottom[j]) - (t1 > g.top[j] ? t1 : g.top[j]);
    const T inter = ((ow < 0) | (oh < 0)) ? T(0) : ow * oh;
    scratch[j] = inter / (a1 + g.area[j] - inter);
  }
  T best = 0;
  for (std::size_t j = 0; j < n; ++j) {
    if (scratch[j] > best) best = scratch[j];
  }
  return best;
}

// Ignore pass of one image (7.2): -1 where the decoded prediction overlaps
// some valid gt by more than thresh.
template <class T>
void mark_ignored(const Setup<T>& st, const T* x, const GtEdges<T>& gts, std::int64_t i, T* obj_mask) {
  const T fh = static_cast<T>(st.h);
  std::vector<T> scratch(gts.area.size());
  for (std::int64_t s = 0; s < st.slots; ++s) {
    const T aw = static_cast<T>(st.anchors[2 * st.mask[s]]);
    const T ah = static_cast<T>(st.anchors[2 * st.mask[s] + 1]);
    for (std::int64_t k = 0; k < st.h; ++k) {
      for (std::int64_t l = 0; l < st.w; ++l) {
        const std::int64_t p = st.entry(i, s, 0, k * st.w + l);
        const Box<T> pred{(static_cast<T>(l) + sigmoid(x[p]) * st.scale + st.bias) / fh,
                          (static_cast<T>(k) + sigmoid(x[p + st.stride]) * st.scale + st.bias) / fh,
                          std::exp(x[p + 2 * st.stride]) * aw / static_cast<T>(st.input_size),
                          std::exp(x[p + 3 * st.stride]) * ah / static_cast<T>(st.input_size)};
        if (best_iou(pred, gts, scratch.data()) > st.thresh) {
          obj_mask[(i * st.slots + s) * st.stride + k * st.w + l] = T(-1);
        }
      }
    }
  }
}

// Accumulates into loss (the original's order) and, when asked, into the
// logging split; the split never feeds back into loss.
template <class T>
struct Accumulator {
  T& loss;
  T* parts;  // kYoloLossNumParts entries, or null
  void add(int part, T term) {
    loss += term;
    if (parts != nullptr) parts[part] += term;
  }
};

template <class T>
void forward_image(const Setup<T>& st, const T* x, const T* box, const std::int32_t* label, const T* score,
                   std::int64_t i, T* obj_mask, std::int32_t* match, Accumulator<T> acc) {
  GtEdges<T> gts;
  for (std::int64_t t = 0; t < st.rows; ++t) {
    const T* b = box + (i * st.rows + t) * 4;
    if (gt_valid(b)) gts.add(b);
  }
  mark_ignored(st, x, gts, i, obj_mask);

  for (std::int64_t t = 0; t < st.rows; ++t) {
    const std::int64_t row = i * st.rows + t;
    const T* b = box + row * 4;
    if (!gt_valid(b)) {
      match[row] = -1;
      continue;
    }
    const std::int64_t best_n = st.best_anchor(b[2], b[3]);
    const std::int64_t m = st.slot_of(best_n);
    match[row] = static_cast<std::int32_t>(m);
    if (m < 0) continue;  // best anchor belongs to another head
    const T sc = score != nullptr ? score[row] : T(1);
    const Target<T> tg = make_target(st, b, best_n, sc);
    const std::int64_t hw = tg.gj * st.w + tg.gi;
    const std::int64_t p = st.entry(i, m, 0, hw);
    acc.add(kYoloLossXY, sce(x[p], tg.tx) * tg.weight);
    acc.add(kYoloLossXY, sce(x[p + st.stride], tg.ty) * tg.weight);
    acc.add(kYoloLossWH, l1(x[p + 2 * st.stride], tg.tw) * tg.weight);
    acc.add(kYoloLossWH, l1(x[p + 3 * st.stride], tg.th) * tg.weight);
    // Overwrites an ignore mark or an earlier gt's score in the same cell.
    obj_mask[(i * st.slots + m) * st.stride + hw] = sc;
    const std::int64_t q = st.entry(i, m, 5, hw);
    for (std::int64_t c = 0; c < st.class_num; ++c) {
      acc.add(kYoloLossClass, sce(x[q + c * st.stride], c == label[row] ? st.pos : st.neg) * sc);
    }
  }

  // Objectness (7.6): positives weighted by their score, negatives by 1.
  for (std::int64_t s = 0; s < st.slots; ++s) {
    const T* obj_x = x + st.entry(i, s, 4, 0);
    const T* o = obj_mask + (i * st.slots + s) * st.stride;
    for (std::int64_t hw = 0; hw < st.stride; ++hw) {
      if (o[hw] > 1e-5) acc.add(kYoloLossObjectness, sce(obj_x[hw], T(1.0)) * o[hw]);
      else if (o[hw] > -0.5) acc.add(kYoloLossObjectness, sce(obj_x[hw], T(0.0)));
    }
  }
}

template <class T>
void forward_kernel(const Setup<T>& st, const Tensor& x, const Tensor& gt_box, const Tensor& gt_label,
                    const Tensor& gt_score, YoloLossOutputs& out) {
  const T* score = gt_score.defined() ? gt_score.data<T>() : nullptr;
  T* loss = out.loss.mutable_data<T>();
  T* obj_mask = out.objectness_mask.mutable_data<T>();
  std::int32_t* match = out.gt_match_mask.mutable_data<std::int32_t>();
  T* parts = out.parts.defined() ? out.parts.mutable_data<T>() : nullptr;
  for (std::int64_t i = 0; i < st.n; ++i) {
    Accumulator<T> acc{loss[i], parts != nullptr ? parts + i * kYoloLossNumParts : nullptr};
    forward_image(st, x.data<T>(), gt_box.data<T>(), gt_label.data<std::int32_t>(), score, i, obj_mask, match, acc);
  }
}

// ---- backward --------------------------------------------------------------

// Writes are assignments, not sums: a later gt in the same cell and slot
// replaces an earlier one's gradient (9.1 item 1).
template <class T>
void backward_kernel(const Setup<T>& st, const Tensor& x, const Tensor& gt_box, const Tensor& gt_label,
                     const Tensor& gt_score, const Tensor& objectness_mask, const Tensor& gt_match_mask,
                     const Tensor& dloss, Tensor& dx) {
  const T* xd = x.data<T>();
  const T* box = gt_box.data<T>();
  const std::int32_t* label = gt_label.data<std::int32_t>();
  const T* score = gt_score.defined() ? gt_score.data<T>() : nullptr;
  const T* obj_mask = objectness_mask.data<T>();
  const std::int32_t* match = gt_match_mask.data<std::int32_t>();
  const T* g = dloss.data<T>();
  T* d = dx.mutable_data<T>();
  for (std::int64_t i = 0; i < st.n; ++i) {
    for (std::int64_t t = 0; t < st.rows; ++t) {
      const std::int64_t row = i * st.rows + t;
      const std::int64_t m = match[row];
      if (m < 0) continue;
      assert(m < st.slots);
      const T* b = box + row * 4;
      const T sc = score != nullptr ? score[row] : T(1);
      const Target<T> tg = make_target(st, b, st.mask[m], sc);
      const std::int64_t hw = tg.gj * st.w + tg.gi;
      const std::int64_t p = st.entry(i, m, 0, hw);
      d[p] = sce_grad(xd[p], tg.tx) * tg.weight * g[i];
      d[p + st.stride] = sce_grad(xd[p + st.stride], tg.ty) * tg.weight * g[i];
      d[p + 2 * st.stride] = l1_grad(xd[p + 2 * st.stride], tg.tw) * tg.weight * g[i];
      d[p + 3 * st.stride] = l1_grad(xd[p + 3 * st.stride], tg.th) * tg.weight * g[i];
      const std::int64_t q = st.entry(i, m, 5, hw);
      for (std::int64_t c = 0; c < st.class_num; ++c) {
        const std::int64_t e = q + c * st.stride;
        d[e] = sce_grad(xd[e], c == label[row] ? st.pos : st.neg) * sc * g[i];
      }
    }
    for (std::int64_t s = 0; s < st.slots; ++s) {
      const std::int64_t base = st.entry(i, s, 4, 0);
      const T* o = obj_mask + (i * st.slots + s) * st.stride;
      for (std::int64_t hw = 0; hw < st.stride; ++hw) {
        if (o[hw] > 1e-5) d[base + hw] = sce_grad(xd[base + hw], T(1.0)) * o[hw] * g[i];
        else if (o[hw] > -0.5) d[base + hw] = sce_grad(xd[base + hw], T(0.0)) * g[i];
      }
    }
  }
}

}  // namespace

YoloLossOutputs yolo_loss_forward(const Tensor& x, const Tensor& gt_box, const Tensor& gt_label,
                                  const Tensor& gt_score, const YoloLossParams& params, bool with_parts) {
  check_yolo_loss_inputs(x, gt_box, gt_label, gt_score, params);
  const std::int64_t n = x.size(0);
  const auto slots = static_cast<std::int64_t>(params.anchor_mask.size());
  YoloLossOutputs out;
  out.loss = Tensor::zeros({n}, x.dtype());
  out.objectness_mask = Tensor::zeros({n, slots, x.size(2), x.size(3)}, x.dtype());
  out.gt_match_mask = Tensor::zeros({n, gt_box.size(1)}, DType::i32);
  if (with_parts) out.parts = Tensor::zeros({n, kYoloLossNumParts}, x.dtype());
  core::dispatch_floating(x.dtype(), [&]<class T>() {
    forward_kernel<T>(Setup<T>(x, gt_box, params), x, gt_box, gt_label, gt_score, out);
  });
  return out;
}

Tensor yolo_loss_backward(const Tensor& x, const Tensor& gt_box, const Tensor& gt_label, const Tensor& gt_score,
                          const Tensor& objectness_mask, const Tensor& gt_match_mask, const Tensor& dloss,
                          const YoloLossParams& params) {
  const core::Shape want_mask{x.size(0), static_cast<std::int64_t>(params.anchor_mask.size()), x.size(2), x.size(3)};
  if (objectness_mask.shape() != want_mask || gt_match_mask.shape() != core::Shape{gt_box.size(0), gt_box.size(1)} ||
      dloss.shape() != core::Shape{x.size(0)} || dloss.dtype() != x.dtype()) {
    throw core::ShapeError(fmt::format(
        "yolo_loss backward: objectness_mask {}, gt_match_mask {} and dloss {} do not fit x {} and gt_box {}",
        objectness_mask.describe(), gt_match_mask.describe(), dloss.describe(), x.describe(), gt_box.describe()));
  }
  Tensor dx = Tensor::zeros(x.shape(), x.dtype());
  core::dispatch_floating(x.dtype(), [&]<class T>() {
    backward_kernel<T>(Setup<T>(x, gt_box, params), x, gt_box, gt_label, gt_score, objectness_mask, gt_match_mask,
                       dloss, dx);
  });
  return dx;
}

YoloLossOutputs yolo_loss(Tape& tape, const Tensor& x, const Tensor& gt_box, const Tensor& gt_label,
                          const YoloLossParams& params, const Tensor& gt_score, bool with_parts) {
  YoloLossOutputs out = yolo_loss_forward(x, gt_box, gt_label, gt_score, params, with_parts);
  // Only x is an input of the node: gt_box, gt_label and gt_score never
  // receive a gradient, and the masks are constants of the backward.
  std::vector<Tensor> saved{x, gt_box, gt_label, out.objectness_mask, out.gt_match_mask};
  if (gt_score.defined()) saved.push_back(gt_score);
  tape.record("yolo_loss", {x}, {out.loss}, std::move(saved),
              [params](const core::BackwardContext& ctx) -> std::vector<Tensor> {
                const Tensor& g = ctx.grad_outputs[0];
                if (!ctx.needs_grad[0] || !g.defined()) return {Tensor()};
                const Tensor score = ctx.saved.size() > 5 ? ctx.saved[5] : Tensor();
                return {yolo_loss_backward(ctx.saved[0], ctx.saved[1], ctx.saved[2], score, ctx.saved[3],
                                           ctx.saved[4], g, params)};
              });
  return out;
}

YoloLossOutputs yolo_loss(Tape& tape, const Tensor& x, const Tensor& gt_box, const Tensor& gt_label,
                          const std::vector<std::int64_t>& anchors, const std::vector<std::int64_t>& anchor_mask,
                          std::int64_t class_num, double ignore_thresh, std::int64_t downsample_ratio,
                          const Tensor& gt_score, bool use_label_smooth, double scale_x_y) {
  const YoloLossParams params{anchors, anchor_mask, class_num, ignore_thresh, downsample_ratio, use_label_smooth,
                              scale_x_y};
  return yolo_loss(tape, x, gt_box, gt_label, params, gt_score);
}

// ---- `yolo op` registration ------------------------------------------------
// gt_box and gt_score are constant inputs (no gradient file), gt_label an
// index input; --grad-out is the cotangent of `loss` and yields grad_x.npy.

namespace {

YoloLossParams yolo_loss_params(const Attrs& a) {
  return {a.get_ints("anchors"),    a.get_ints("anchor_mask"),     a.get_int("class_num"),
          a.get_float("ignore_thresh"), a.get_int("downsample_ratio"), a.get_bool("use_label_smooth"),
          a.get_float("scale_x_y")};
}

NamedTensors run_yolo_loss(Tape& tape, const OpCall& call) {
  const auto score = call.inputs.find("gt_score");
  const YoloLossOutputs out =
      yolo_loss(tape, call.inputs.at("x"), call.inputs.at("gt_box"), call.inputs.at("gt_label"),
                yolo_loss_params(call.attrs), score != call.inputs.end() ? score->second : Tensor());
  return {{"loss", out.loss}, {"objectness_mask", out.objectness_mask}, {"gt_match_mask", out.gt_match_mask}};
}

}  // namespace

void register_yolo_loss(OpRegistry& r) {
  r.add({"yolo_loss",
         "PaddlePaddle's YOLOv3 loss of one head: per-image loss [N], objectness_mask [N,S,H,W], "
         "gt_match_mask [N,B] (see docs/yolo_loss.md)",
         {{"x", InputKind::differentiable, false, "[N, S*(5+class_num), H, W] head logits"},
          {"gt_box", InputKind::constant, false, "[N, B, 4] (cx, cy, w, h) normalised to 0..1"},
          {"gt_label", InputKind::index, false, "[N, B] class ids"},
          {"gt_score", InputKind::constant, true, "[N, B] per-gt weight; default all ones"}},
         false,
         {"loss", "objectness_mask", "gt_match_mask"},
         {{"anchors", AttrType::int_list, std::nullopt, "(w, h) pairs of all anchors, input pixels"},
          {"anchor_mask", AttrType::int_list, std::nullopt, "anchors predicted by this head"},
          {"class_num", AttrType::integer, std::nullopt, "number of classes"},
          {"ignore_thresh", AttrType::real, std::nullopt, "IoU above which a negative's objectness is ignored"},
          {"downsample_ratio", AttrType::integer, std::nullopt, "stride of the head (32, 16, 8)"},
          {"use_label_smooth", AttrType::boolean, AttrValue(true), "class targets min(1/C, 1/40) / 1 - that"},
          {"scale_x_y", AttrType::real, AttrValue(1.0), "centre scaling of the decoded boxes (ignore rule only)"}},
         run_yolo_loss});
}

}  // namespace ops

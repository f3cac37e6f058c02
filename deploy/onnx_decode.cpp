#include "deploy/onnx_decode.h"

#include <fmt/format.h>

#include "core/error.h"

namespace deploy {

namespace {

// Cell offsets (col, row) and anchor sizes (w, h) of every row of one head,
// in the row order [cell row-major][anchor slot]: [1, rows, 2] each.
struct HeadConstants {
  std::vector<float> grid, anchors;
};

HeadConstants head_constants(const OnnxHead& h) {
  HeadConstants c;
  for (int row = 0; row < h.grid_h; ++row) {
    for (int col = 0; col < h.grid_w; ++col) {
      for (int k : h.layer.mask) {
        const std::size_t a = 2 * static_cast<std::size_t>(k);
        c.grid.insert(c.grid.end(), {static_cast<float>(col), static_cast<float>(row)});
        c.anchors.insert(c.anchors.end(), {h.layer.anchors[a], h.layer.anchors[a + 1]});
      }
    }
  }
  return c;
}

std::string slice_last(OnnxGraph& g, const std::string& x, std::int64_t begin, std::int64_t end,
                       const std::string& hint) {
  return OnnxGraph::out(g.node("Slice",
                               {x, g.constant_i64(hint + "_starts", {begin}), g.constant_i64(hint + "_ends", {end}),
                                g.constant_i64(hint + "_axes", {2})},
                               hint));
}

// One head [N, S*(5+C), H, W] -> [N, H*W*S, 5+C] decoded rows.
std::string decode_head(OnnxGraph& g, const OnnxHead& h) {
  const std::int64_t S = static_cast<std::int64_t>(h.layer.mask.size()), D = h.layer.channels_per_anchor();
  const std::int64_t cells = std::int64_t(h.grid_h) * h.grid_w, rows = cells * S;
  const std::string p = fmt::format("decode_stride_{}", h.stride);
  // [N, S, D, H*W] -> [N, H*W, S, D] -> [N, rows, D]: a row per (cell, anchor slot).
  const std::string split = OnnxGraph::out(
      g.node("Reshape", {h.tensor, g.constant_i64(p + "_slots_shape", {-1, S, D, cells})}, p + "_slots"));
  onnx::NodeProto& t = g.node("Transpose", {split}, p + "_cells_first");
  OnnxGraph::set_ints(t, "perm", {0, 3, 1, 2});
  const std::string flat = OnnxGraph::out(
      g.node("Reshape", {OnnxGraph::out(t), g.constant_i64(p + "_rows_shape", {-1, rows, D})}, p + "_rows"));

  const HeadConstants c = head_constants(h);
  const std::string sig_xy = OnnxGraph::out(g.node("Sigmoid", {slice_last(g, flat, 0, 2, p + "_txy")}, p + "_sxy"));
  const std::string cell_xy =
      OnnxGraph::out(g.node("Add", {sig_xy, g.constant(p + "_grid", {1, rows, 2}, c.grid)}, p + "_cell_xy"));
  const std::string xy = OnnxGraph::out(
      g.node("Mul", {cell_xy, g.constant(p + "_stride", {1}, {static_cast<float>(h.stride)})}, p + "_xy"));
  const std::string exp_wh = OnnxGraph::out(g.node("Exp", {slice_last(g, flat, 2, 4, p + "_twh")}, p + "_exp_wh"));
  const std::string wh =
      OnnxGraph::out(g.node("Mul", {exp_wh, g.constant(p + "_anchors", {1, rows, 2}, c.anchors)}, p + "_wh"));
  const std::string obj = OnnxGraph::out(g.node("Sigmoid", {slice_last(g, flat, 4, 5, p + "_to")}, p + "_obj"));
  const std::string sig_cls = OnnxGraph::out(g.node("Sigmoid", {slice_last(g, flat, 5, D, p + "_tc")}, p + "_scls"));
  const std::string cls = OnnxGraph::out(g.node("Mul", {sig_cls, obj}, p + "_cls"));
  onnx::NodeProto& rows_out = g.node("Concat", {xy, wh, obj, cls}, p);
  OnnxGraph::set_int(rows_out, "axis", 2);
  return OnnxGraph::out(rows_out);
}

}  // namespace

std::int64_t add_decode(OnnxGraph& g, const std::vector<OnnxHead>& heads, const std::string& output) {
  std::vector<std::string> parts;
  std::int64_t rows = 0;
  for (const OnnxHead& h : heads) {
    if (h.layer.classes != heads.front().layer.classes) {
      throw core::ValueError(fmt::format("ONNX export --decode: the heads have {} and {} classes; one detections "
                                         "tensor needs the same count on every head (export the raw heads instead)",
                                         heads.front().layer.classes, h.layer.classes));
    }
    for (int k : h.layer.mask) {
      if (k < 0 || 2 * std::size_t(k) + 1 >= h.layer.anchors.size()) {
        throw core::ValueError(fmt::format("ONNX export --decode: mask index {} of the stride-{} head is outside its "
                                           "{} anchors", k, h.stride, h.layer.anchors.size() / 2));
      }
    }
    parts.push_back(decode_head(g, h));
    rows += std::int64_t(h.grid_h) * h.grid_w * static_cast<std::int64_t>(h.layer.mask.size());
  }
  onnx::NodeProto& all = g.node("Concat", parts, output, /*exact=*/true);
  OnnxGraph::set_int(all, "axis", 1);
  return rows;
}

}  // namespace deploy

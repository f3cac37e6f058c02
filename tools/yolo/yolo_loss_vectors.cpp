#include "tools/yolo/yolo_loss_vectors.h"

#include <fmt/format.h>

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace yolo {

using core::Tensor;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "yolo_loss_vectors/1";

// {"shape": [...], "data": [...]}, row-major. A null element reads as NaN, so
// a writer that cannot spell NaN in JSON can still store one.
core::Shape read_shape(const json& j, const std::string& what) {
  if (!j.is_object() || !j.contains("shape") || !j.contains("data") || !j["shape"].is_array() ||
      !j["data"].is_array()) {
    throw core::IoError(fmt::format("{} must be an object with 'shape' and 'data' lists", what));
  }
  core::Shape shape;
  for (const auto& d : j["shape"]) shape.push_back(d.get<std::int64_t>());
  if (static_cast<std::int64_t>(j["data"].size()) != core::shape_numel(shape)) {
    throw core::IoError(fmt::format("{} has {} values for shape {}", what, j["data"].size(), core::shape_str(shape)));
  }
  return shape;
}

Tensor read_reals(const json& j, const std::string& what) {
  const core::Shape shape = read_shape(j, what);
  std::vector<double> values;
  values.reserve(j["data"].size());
  for (const auto& v : j["data"]) {
    values.push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>());
  }
  return Tensor::from_vector(shape, values, core::DType::f64);
}

Tensor read_ints(const json& j, const std::string& what) {
  const core::Shape shape = read_shape(j, what);
  std::vector<std::int32_t> values;
  values.reserve(j["data"].size());
  for (const auto& v : j["data"]) values.push_back(v.get<std::int32_t>());
  return Tensor::from_ints(shape, values);
}

const json& member(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) throw core::IoError(fmt::format("{}: '{}' is missing", where, key));
  return j[key];
}

ops::YoloLossParams read_attrs(const json& a) {
  ops::YoloLossParams p;
  p.anchors = member(a, "anchors", "attrs").get<std::vector<std::int64_t>>();
  p.anchor_mask = member(a, "anchor_mask", "attrs").get<std::vector<std::int64_t>>();
  p.class_num = member(a, "class_num", "attrs").get<std::int64_t>();
  p.ignore_thresh = member(a, "ignore_thresh", "attrs").get<double>();
  p.downsample_ratio = member(a, "downsample_ratio", "attrs").get<std::int64_t>();
  // Paddle's defaults when a writer leaves them out.
  p.use_label_smooth = a.value("use_label_smooth", true);
  p.scale_x_y = a.value("scale_x_y", 1.0);
  return p;
}

YoloLossCase read_case(const json& c) {
  YoloLossCase k;
  k.name = c.value("name", std::string("(unnamed)"));
  k.params = read_attrs(member(c, "attrs", k.name));
  k.x = read_reals(member(c, "x", k.name), "x");
  k.gt_box = read_reals(member(c, "gt_box", k.name), "gt_box");
  k.gt_label = read_ints(member(c, "gt_label", k.name), "gt_label");
  if (c.contains("gt_score") && !c["gt_score"].is_null()) k.gt_score = read_reals(c["gt_score"], "gt_score");
  k.dloss = read_reals(member(c, "dloss", k.name), "dloss");
  const json& e = member(c, "expected", k.name);
  k.want_loss = read_reals(member(e, "loss", "expected"), "expected.loss");
  k.want_objectness_mask = read_reals(member(e, "objectness_mask", "expected"), "expected.objectness_mask");
  k.want_gt_match_mask = read_ints(member(e, "gt_match_mask", "expected"), "expected.gt_match_mask");
  k.want_dx = read_reals(member(e, "dx", "expected"), "expected.dx");
  k.float32_safe = c.value("float32_safe", false);
  return k;
}

}  // namespace

YoloLossVectorFile read_yolo_loss_vectors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw core::IoError(fmt::format("conformance: cannot open '{}'", path));
  std::stringstream text;
  text << in.rdbuf();
  json root;
  try {
    root = json::parse(text.str());
  } catch (const json::exception& e) {
    throw core::IoError(fmt::format("conformance: '{}' is not valid JSON: {}", path, e.what()));
  }
  if (!root.is_object() || root.value("format", std::string()) != kFormat) {
    throw core::IoError(fmt::format("conformance: '{}' is not a \"{}\" file (its 'format' is {})", path, kFormat,
                                    root.is_object() && root.contains("format") ? root["format"].dump() : "missing"));
  }
  if (!root.contains("cases") || !root["cases"].is_array()) {
    throw core::IoError(fmt::format("conformance: '{}' has no 'cases' list", path));
  }
  YoloLossVectorFile file;
  for (std::size_t i = 0; i < root["cases"].size(); ++i) {
    const json& c = root["cases"][i];
    try {
      file.cases.push_back(read_case(c));
    } catch (const std::exception& e) {
      const std::string name = c.is_object() ? c.value("name", fmt::format("case {}", i)) : fmt::format("case {}", i);
      file.unreadable.push_back(fmt::format("{}: {}", name, e.what()));
    }
  }
  return file;
}

}  // namespace yolo

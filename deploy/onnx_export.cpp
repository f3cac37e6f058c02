#include "deploy/onnx_export.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <variant>

#include "core/atomic_file.h"
#include "core/error.h"
#include "deploy/onnx_decode.h"
#include "deploy/onnx_graph.h"
#include "ops/batch_norm2d.h"

namespace deploy {

namespace {

using models::Activation;
using models::LayerSpec;
using models::NetworkDef;

// The IR version that came with opset 11 (ONNX 1.6): the oldest a reader of
// this opset must understand.
constexpr std::int64_t kIrVersion = 6;
constexpr char kInputName[] = "images";
constexpr char kBatchSymbol[] = "batch";

std::string layer_at(const NetworkDef& def, std::size_t i) {
  const int line = def.layers[i].line;
  return fmt::format("{} layer {} ({}{})", def.source, i, models::layer_type_name(def.layers[i].spec),
                     line > 0 ? fmt::format(", line {}", line) : "");
}

// The index of the last [yolo] layer; what follows it feeds no output.
std::size_t check_exportable(const NetworkDef& def) {
  if (def.net.channels != 3) {
    throw core::ValueError(fmt::format("ONNX export: {} takes {} input channels; the exported graph takes RGB images "
                                       "(3 channels)", def.source, def.net.channels));
  }
  std::size_t last_yolo = def.layers.size();
  for (std::size_t i = 0; i < def.layers.size(); ++i) {
    if (std::holds_alternative<models::YoloLayer>(def.layers[i].spec)) last_yolo = i;
  }
  if (last_yolo == def.layers.size() || last_yolo == 0) {
    throw core::ValueError(fmt::format("ONNX export: {} has no [yolo] layer after its first layer; only detectors "
                                       "are exported", def.source));
  }
  for (std::size_t i = 0; i <= last_yolo; ++i) {
    const LayerSpec& spec = def.layers[i].spec;
    if (std::holds_alternative<models::AvgpoolLayer>(spec) || std::holds_alternative<models::SoftmaxLayer>(spec)) {
      throw core::ValueError(fmt::format("ONNX export: {} cannot be exported (a detector's graph has conv, "
                                         "shortcut, route, upsample, maxpool and yolo layers only)",
                                         layer_at(def, i)));
    }
  }
  return last_yolo;
}

void check_options(const OnnxExportOptions& o) {
  if (o.size <= 0 || o.size % 32 != 0) {
    throw core::ConfigError(fmt::format("ONNX export: input size {} must be a positive multiple of 32 (the network "
                                        "downsamples by 32 and its routes need the grids to line up)", o.size));
  }
  if (o.batch < 0) {
    throw core::ConfigError(fmt::format("ONNX export: batch {} must be positive (or 0 for a symbolic batch)", o.batch));
  }
}

// x -> x * (1 / std) - mean / std per channel when the model normalises, as
// a 1x1 convolution of 3 groups: models::prepare_input's (x - mean) * (1 /
// std) up to float rounding. A Sub and a Mul of [1,3,1,1] constants would
// say the same, but OpenCV 4.6's dnn runs those at batch 1 only.
std::string add_preprocess(OnnxGraph& g, const models::ModelMeta& meta, const std::string& images) {
  if (!meta.mean_std) return images;
  std::vector<float> inv_std(3), shift(3);
  for (std::size_t k = 0; k < 3; ++k) {
    inv_std[k] = 1.0f / meta.std[k];
    shift[k] = -meta.mean[k] * inv_std[k];
  }
  onnx::NodeProto& n = g.node("Conv", {images, g.constant("input_inv_std", {3, 1, 1, 1}, inv_std),
                                       g.constant("input_shift", {3}, shift)},
                              "input_normalised");
  OnnxGraph::set_ints(n, "kernel_shape", {1, 1});
  OnnxGraph::set_int(n, "group", 3);
  return OnnxGraph::out(n);
}

// Appends the activation node (none for linear); returns the output name.
std::string add_activation(OnnxGraph& g, Activation a, const std::string& x, const std::string& out, bool exact) {
  switch (a) {
    case Activation::linear: return x;
    case Activation::leaky: {
      onnx::NodeProto& n = g.node("LeakyRelu", {x}, out, exact);
      OnnxGraph::set_float(n, "alpha", 0.1f);  // Darknet's slope, as models/darknet_network.cpp
      return OnnxGraph::out(n);
    }
    case Activation::logistic: return OnnxGraph::out(g.node("Sigmoid", {x}, out, exact));
    case Activation::relu: return OnnxGraph::out(g.node("Relu", {x}, out, exact));
  }
  throw core::ValueError("ONNX export: unknown activation");
}

struct FoldedConv {
  std::vector<float> weight, bias;
};

// Batch norm folded into the convolution, in double and rounded once, as
// ops/conv_bn_leaky.cpp folds it for inference: w' = w * s,
// b' = beta - mean * s with s = gamma / sd.
FoldedConv fold_conv(const models::DarknetConvTensors& t, const models::NetworkOptions& options) {
  FoldedConv f;
  const std::vector<double> w = t.weights.to_double_vector(), b = t.biases.to_double_vector();
  if (!t.scales.defined()) {
    f.weight.assign(w.begin(), w.end());
    f.bias.assign(b.begin(), b.end());
    return f;
  }
  // With batch norm, `biases` holds beta and the convolution has no bias.
  const std::vector<double> gamma = t.scales.to_double_vector(), mean = t.rolling_mean.to_double_vector(),
                            var = t.rolling_var.to_double_vector();
  const std::size_t channels = gamma.size(), per_channel = w.size() / channels;
  f.weight.resize(w.size());
  f.bias.resize(channels);
  for (std::size_t c = 0; c < channels; ++c) {
    const double sd = options.bn_style == models::BnStyle::darknet ? std::sqrt(var[c]) + ops::kDarknetBnEpsilon
                                                                   : std::sqrt(var[c] + options.bn_eps);
    const double s = gamma[c] / sd;
    for (std::size_t i = 0; i < per_channel; ++i) {
      f.weight[c * per_channel + i] = static_cast<float>(w[c * per_channel + i] * s);
    }
    f.bias[c] = static_cast<float>(b[c] + (0.0 - mean[c]) * s);
  }
  return f;
}

std::string add_conv(OnnxGraph& g, const models::ConvLayer& spec, const models::DarknetConvTensors& t,
                     const models::NetworkOptions& options, const std::string& x, const std::string& out,
                     bool exact) {
  const FoldedConv f = fold_conv(t, options);
  const std::string prefix = fmt::format("l{}_conv", t.layer_index);
  const std::string w = g.constant(prefix + "_weight", t.weights.shape(), f.weight);
  const std::string b = g.constant(prefix + "_bias", {spec.filters}, f.bias);
  const bool linear = spec.activation == Activation::linear;
  onnx::NodeProto& conv = g.node("Conv", {x, w, b}, linear ? out : prefix, linear && exact);
  OnnxGraph::set_ints(conv, "kernel_shape", {spec.size, spec.size});
  OnnxGraph::set_ints(conv, "strides", {spec.stride, spec.stride});
  OnnxGraph::set_ints(conv, "pads", {spec.padding, spec.padding, spec.padding, spec.padding});
  OnnxGraph::set_int(conv, "group", spec.groups);
  return add_activation(g, spec.activation, OnnxGraph::out(conv), out, exact);
}

}  // namespace

namespace {

// The nodes of one network layer that is not a convolution; returns the
// layer's output. kept[i] is layer i's output name.
std::string add_plain_layer(OnnxGraph& g, const LayerSpec& spec, std::size_t i, const std::vector<std::string>& kept,
                            const std::string& prev, const std::string& out, bool exact) {
  if (const auto* s = std::get_if<models::ShortcutLayer>(&spec)) {
    const bool linear = s->activation == Activation::linear;
    const std::string sum =
        OnnxGraph::out(g.node("Add", {prev, kept[std::size_t(s->from)]}, linear ? out : fmt::format("l{}_add", i),
                              linear && exact));
    return add_activation(g, s->activation, sum, out, exact);
  }
  if (const auto* r = std::get_if<models::RouteLayer>(&spec)) {
    if (r->layers.size() == 1) return kept[std::size_t(r->layers[0])];
    std::vector<std::string> parts;
    for (int l : r->layers) parts.push_back(kept[std::size_t(l)]);
    onnx::NodeProto& n = g.node("Concat", parts, out, exact);
    OnnxGraph::set_int(n, "axis", 1);
    return OnnxGraph::out(n);
  }
  if (const auto* u = std::get_if<models::UpsampleLayer>(&spec)) {
    // Nearest neighbour by an integer factor: output pixel i reads input
    // floor(i / stride), which asymmetric + floor states exactly.
    const bool scaled = u->scale != 1.0f;
    const float f = static_cast<float>(u->stride);
    onnx::NodeProto& n = g.node("Resize",
                                {prev, g.constant(fmt::format("l{}_roi", i), {0}, {}),
                                 g.constant(fmt::format("l{}_scales", i), {4}, {1.0f, 1.0f, f, f})},
                                scaled ? fmt::format("l{}_resize", i) : out, !scaled && exact);
    OnnxGraph::set_string(n, "mode", "nearest");
    OnnxGraph::set_string(n, "coordinate_transformation_mode", "asymmetric");
    OnnxGraph::set_string(n, "nearest_mode", "floor");
    if (!scaled) return OnnxGraph::out(n);
    return OnnxGraph::out(
        g.node("Mul", {OnnxGraph::out(n), g.constant(fmt::format("l{}_scale", i), {1}, {u->scale})}, out, exact));
  }
  if (const auto* m = std::get_if<models::MaxpoolLayer>(&spec)) {
    // Darknet's total padding: padding/2 before, the rest after.
    const std::int64_t before = m->padding / 2, after = m->padding - m->padding / 2;
    onnx::NodeProto& n = g.node("MaxPool", {prev}, out, exact);
    OnnxGraph::set_ints(n, "kernel_shape", {m->size, m->size});
    OnnxGraph::set_ints(n, "strides", {m->stride, m->stride});
    OnnxGraph::set_ints(n, "pads", {before, before, after, after});
    return OnnxGraph::out(n);
  }
  throw core::ValueError(fmt::format("ONNX export: layer {} ({}) has no ONNX form", i, models::layer_type_name(spec)));
}

// The network's layers up to the last [yolo] one; each head's tensor is
// named stride_S (S its downsample ratio; _1, _2... if two heads share one).
std::vector<OnnxHead> add_network(OnnxGraph& g, const models::DarknetNetwork& net, const std::string& input,
                                  int size) {
  const NetworkDef& def = net.def();
  const std::size_t last_yolo = check_exportable(def);
  const std::vector<models::LayerShape> shapes = models::infer_shapes(def, def.net.channels, size, size);
  std::map<int, models::DarknetConvTensors> convs;
  for (const models::DarknetConvTensors& t : net.darknet_conv_tensors()) convs[t.layer_index] = t;
  // Names are reserved first, so the layer feeding a head can write it directly.
  std::map<std::size_t, std::string> head_names;
  for (std::size_t i = 1; i <= last_yolo; ++i) {
    if (std::holds_alternative<models::YoloLayer>(def.layers[i].spec)) {
      head_names[i] = g.unique(fmt::format("stride_{}", size / shapes[i].h));
    }
  }

  std::vector<OnnxHead> heads;
  std::vector<std::string> kept(last_yolo + 1);
  std::string prev = input;
  for (std::size_t i = 0; i <= last_yolo; ++i) {
    const LayerSpec& spec = def.layers[i].spec;
    const auto feeds_head = head_names.find(i + 1);
    const bool exact = feeds_head != head_names.end();
    const std::string out = exact ? feeds_head->second : fmt::format("l{}_{}", i, models::layer_type_name(spec));
    if (const auto* y = std::get_if<models::YoloLayer>(&spec)) {
      const std::string& name = head_names.at(i);
      // A head fed by a layer without a node of its own (a one-layer route).
      if (prev != name) prev = OnnxGraph::out(g.node("Identity", {prev}, name, /*exact=*/true));
      heads.push_back({prev, *y, shapes[i].h, shapes[i].w, size / shapes[i].h});
    } else if (const auto* c = std::get_if<models::ConvLayer>(&spec)) {
      prev = add_conv(g, *c, convs.at(static_cast<int>(i)), net.options(), prev, out, exact);
    } else {
      prev = add_plain_layer(g, spec, i, kept, prev, out, exact);
    }
    kept[i] = prev;
  }
  return heads;
}

void add_property(onnx::ModelProto& m, const std::string& key, const std::string& value) {
  onnx::StringStringEntryProto* p = m.add_metadata_props();
  p->set_key(key);
  p->set_value(value);
}

// What a program needs to use the outputs: class names, each head's anchors
// and stride, how to resize the input, and the decoded row layout.
void add_metadata(onnx::ModelProto& m, const models::Model& model, const std::vector<OnnxHead>& heads,
                  const OnnxExportOptions& options) {
  nlohmann::json anchors = nlohmann::json::array(), strides = nlohmann::json::array();
  for (const OnnxHead& h : heads) {
    nlohmann::json pairs = nlohmann::json::array();
    for (int k : h.layer.mask) {
      pairs.push_back({h.layer.anchors.at(2 * std::size_t(k)), h.layer.anchors.at(2 * std::size_t(k) + 1)});
    }
    anchors.push_back(pairs);
    strides.push_back(h.stride);
  }
  add_property(m, "class_names", nlohmann::json(model.meta.class_names).dump());
  add_property(m, "anchors", anchors.dump());
  add_property(m, "strides", strides.dump());
  add_property(m, "input_size", std::to_string(options.size));
  add_property(m, "resize", model.meta.resize);
  add_property(m, "input", "RGB float32 in [0,1], NCHW; normalisation is inside the graph");
  add_property(m, "output", options.decode ? "detections: cx, cy, w, h (input pixels), objectness, "
                                             "objectness * sigmoid(class) per class"
                                           : "raw heads stride_S: [N, anchors*(5+classes), H/S, W/S], per anchor "
                                             "tx, ty, tw, th, objectness, class logits");
}

std::vector<OnnxOutput> declare_outputs(onnx::GraphProto& graph, const std::vector<OnnxHead>& heads,
                                        const OnnxExportOptions& options, std::int64_t rows) {
  const std::int64_t n = options.batch == 0 ? -1 : options.batch;
  std::vector<OnnxOutput> outputs;
  if (options.decode) {
    outputs.push_back({"detections", {n, rows, heads.front().layer.channels_per_anchor()}});
  } else {
    for (const OnnxHead& h : heads) {
      const std::int64_t channels = std::int64_t(h.layer.mask.size()) * h.layer.channels_per_anchor();
      outputs.push_back({h.tensor, {n, channels, h.grid_h, h.grid_w}});
    }
  }
  for (const OnnxOutput& o : outputs) add_float_value(*graph.mutable_output(), o.name, o.shape, kBatchSymbol);
  return outputs;
}

}  // namespace

OnnxExport export_onnx(const models::Model& model, const OnnxExportOptions& options) {
  check_options(options);
  OnnxExport e;
  onnx::ModelProto& m = e.model;
  m.set_ir_version(kIrVersion);
  m.set_producer_name("yolo-cpu");
  m.set_doc_string("YOLOv3 detector exported by `yolo export` (docs/onnx_export.md)");
  onnx::OperatorSetIdProto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);

  onnx::GraphProto& graph = *m.mutable_graph();
  graph.set_name("yolo");
  const std::int64_t n = options.batch == 0 ? -1 : options.batch;
  add_float_value(*graph.mutable_input(), kInputName, {n, 3, options.size, options.size}, kBatchSymbol);
  OnnxGraph g(graph);
  g.unique(kInputName);
  const std::string x = add_preprocess(g, model.meta, kInputName);
  const std::vector<OnnxHead> heads = add_network(g, *model.network, x, options.size);
  const std::int64_t rows = options.decode ? add_decode(g, heads, "detections") : 0;
  e.outputs = declare_outputs(graph, heads, options, rows);
  add_metadata(m, model, heads, options);
  return e;
}

void write_onnx(const std::string& path, const onnx::ModelProto& model) {
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    throw core::IoError(fmt::format("{}: protobuf could not serialise the ONNX model", path));
  }
  core::write_file_atomic(path, bytes);
}

}  // namespace deploy

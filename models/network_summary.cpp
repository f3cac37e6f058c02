#include "models/network_summary.h"

#include <fmt/format.h>

#include <variant>

namespace models {

namespace {

std::string join_ints(const std::vector<int>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s;
}

}  // namespace

NetworkSummary summarize_network(const NetworkDef& def, int height, int width) {
  const std::vector<LayerShape> shapes = infer_shapes(def, def.net.channels, height, width);
  NetworkSummary s;
  LayerShape in{def.net.channels, height, width};
  for (std::size_t i = 0; i < def.layers.size(); ++i) {
    const LayerSpec& spec = def.layers[i].spec;
    LayerSummary l;
    l.index = static_cast<int>(i);
    l.type = layer_type_name(spec);
    l.input = in;
    l.output = shapes[i];
    if (const auto* c = std::get_if<ConvLayer>(&spec)) {
      const std::int64_t macs_per_output = std::int64_t(in.c / c->groups) * c->size * c->size;
      l.parameters = c->filters * macs_per_output + c->filters;  // weights + bias (or BN shift)
      if (c->batch_normalize) {
        l.parameters += c->filters;  // BN scale
        l.buffers = 2 * std::int64_t(c->filters);
      }
      l.flops = 2 * macs_per_output * c->filters * l.output.h * l.output.w;
      l.description = fmt::format("{} {}x{}/{} {}{}", c->filters, c->size, c->size, c->stride,
                                  activation_name(c->activation), c->batch_normalize ? " bn" : "");
    } else if (const auto* sc = std::get_if<ShortcutLayer>(&spec)) {
      l.description = fmt::format("from {} {}", sc->from, activation_name(sc->activation));
    } else if (const auto* r = std::get_if<RouteLayer>(&spec)) {
      l.description = "layers " + join_ints(r->layers);
    } else if (const auto* u = std::get_if<UpsampleLayer>(&spec)) {
      l.description = fmt::format("x{}", u->stride);
    } else if (const auto* m = std::get_if<MaxpoolLayer>(&spec)) {
      l.description = fmt::format("{}x{}/{}", m->size, m->size, m->stride);
    } else if (const auto* y = std::get_if<YoloLayer>(&spec)) {
      l.description = fmt::format("classes {} mask {}", y->classes, join_ints(y->mask));
    }
    s.parameters += l.parameters;
    s.buffers += l.buffers;
    s.flops += l.flops;
    s.layers.push_back(l);
    in = shapes[i];
  }
  return s;
}

std::string format_network_summary(const NetworkSummary& s, int height, int width) {
  std::string out = fmt::format("{:>4}  {:<14} {:<24} {:>16} {:>16} {:>12} {:>10}\n", "idx", "type", "details",
                                "input CxHxW", "output CxHxW", "params", "GFLOP");
  for (const LayerSummary& l : s.layers) {
    out += fmt::format("{:>4}  {:<14} {:<24} {:>16} {:>16} {:>12} {:>10.3f}\n", l.index, l.type, l.description,
                       fmt::format("{}x{}x{}", l.input.c, l.input.h, l.input.w),
                       fmt::format("{}x{}x{}", l.output.c, l.output.h, l.output.w), l.parameters, l.flops / 1e9);
  }
  out += fmt::format("input: {}x{} (HxW), {} layers\n", height, width, s.layers.size());
  out += fmt::format("parameters: {} (plus {} batch-norm rolling statistics; {} floats in a .weights file)\n",
                     s.parameters, s.buffers, s.weights_floats());
  out += fmt::format("FLOPs per image: {:.3f} G (convolutions, 2 x multiply-accumulates)\n", s.flops / 1e9);
  return out;
}

}  // namespace models

#include "models/network_def.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/overloaded.h"

namespace models {

using core::Overloaded;

std::string layer_type_name(const LayerSpec& spec) {
  return std::visit(Overloaded{[](const ConvLayer&) { return "convolutional"; },
                               [](const ShortcutLayer&) { return "shortcut"; },
                               [](const RouteLayer&) { return "route"; },
                               [](const UpsampleLayer&) { return "upsample"; },
                               [](const MaxpoolLayer&) { return "maxpool"; },
                               [](const YoloLayer&) { return "yolo"; },
                               [](const AvgpoolLayer&) { return "avgpool"; },
                               [](const SoftmaxLayer&) { return "softmax"; }},
                    spec);
}

std::string activation_name(Activation a) {
  switch (a) {
    case Activation::linear: return "linear";
    case Activation::leaky: return "leaky";
    case Activation::logistic: return "logistic";
    case Activation::relu: return "relu";
  }
  return "?";
}

std::vector<LayerShape> infer_shapes(const NetworkDef& def, int channels, int height, int width) {
  std::vector<LayerShape> shapes;
  shapes.reserve(def.layers.size());
  LayerShape in{channels, height, width};
  for (std::size_t i = 0; i < def.layers.size(); ++i) {
    const LayerDef& layer = def.layers[i];
    auto fail = [&](const std::string& why) -> core::ShapeError {
      return core::ShapeError(fmt::format("{}:{}: layer {} [{}]: {}", def.source, layer.line, i,
                                          layer_type_name(layer.spec), why));
    };
    LayerShape out = std::visit(
        Overloaded{
            [&](const ConvLayer& c) {
              if (in.c % c.groups != 0 || c.filters % c.groups != 0) {
                throw fail(fmt::format("groups={} does not divide {} input channels and {} filters", c.groups, in.c,
                                       c.filters));
              }
              const int h = (in.h + 2 * c.padding - c.size) / c.stride + 1;
              const int w = (in.w + 2 * c.padding - c.size) / c.stride + 1;
              return LayerShape{c.filters, h, w};
            },
            [&](const ShortcutLayer& c) {
              const LayerShape& from = shapes[c.from];
              if (from.c != in.c || from.h != in.h || from.w != in.w) {
                throw fail(fmt::format("adds layer {} of shape {}x{}x{} to the previous layer's {}x{}x{}", c.from,
                                       from.c, from.h, from.w, in.c, in.h, in.w));
              }
              return in;
            },
            [&](const RouteLayer& c) {
              LayerShape s{0, shapes[c.layers[0]].h, shapes[c.layers[0]].w};
              for (int l : c.layers) {
                if (shapes[l].h != s.h || shapes[l].w != s.w) {
                  throw fail(fmt::format("joins layer {} ({}x{}) with layer {} ({}x{}); grids must match "
                                         "(is the input size a multiple of 32?)",
                                         c.layers[0], s.h, s.w, l, shapes[l].h, shapes[l].w));
                }
                s.c += shapes[l].c;
              }
              return s;
            },
            [&](const UpsampleLayer& c) { return LayerShape{in.c, in.h * c.stride, in.w * c.stride}; },
            [&](const MaxpoolLayer& c) {
              return LayerShape{in.c, (in.h + c.padding - c.size) / c.stride + 1,
                                (in.w + c.padding - c.size) / c.stride + 1};
            },
            [&](const YoloLayer& c) {
              const int want = static_cast<int>(c.mask.size()) * (c.classes + 5);
              if (in.c != want) {
                throw fail(fmt::format("input has {} channels; {} anchors x ({} classes + 5) need {}", in.c,
                                       c.mask.size(), c.classes, want));
              }
              return in;
            },
            [&](const AvgpoolLayer&) { return LayerShape{in.c, 1, 1}; },
            [&](const SoftmaxLayer&) { return in; }},
        layer.spec);
    if (out.c <= 0 || out.h <= 0 || out.w <= 0) {
      throw fail(fmt::format("output would be {}x{}x{} from input {}x{}x{}: the input is too small", out.c, out.h,
                             out.w, in.c, in.h, in.w));
    }
    shapes.push_back(out);
    in = out;
  }
  return shapes;
}

int yolo_class_count(const NetworkDef& def) {
  int classes = 0;
  for (const LayerDef& layer : def.layers) {
    const auto* head = std::get_if<YoloLayer>(&layer.spec);
    if (head == nullptr) continue;
    if (classes != 0 && head->classes != classes) {
      throw core::ValueError(fmt::format("{}: [yolo] layers disagree on classes ({} and {}, line {})", def.source,
                                         classes, head->classes, layer.line));
    }
    classes = head->classes;
  }
  return classes;
}

NetworkDef with_class_count(NetworkDef def, int classes) {
  if (classes < 1) throw core::ValueError(fmt::format("{}: a class count must be positive, got {}", def.source, classes));
  for (std::size_t i = 0; i < def.layers.size(); ++i) {
    auto* head = std::get_if<YoloLayer>(&def.layers[i].spec);
    if (head == nullptr) continue;
    const int anchors = static_cast<int>(head->mask.size());
    auto* feed = i > 0 ? std::get_if<ConvLayer>(&def.layers[i - 1].spec) : nullptr;
    if (feed == nullptr || feed->filters != anchors * head->channels_per_anchor()) {
      throw core::ValueError(fmt::format("{}: the [yolo] layer {} (line {}) is not fed by a convolution of {} x ({} + 5) "
                                         "filters just before it, so its class count cannot be changed",
                                         def.source, i, def.layers[i].line, anchors, head->classes));
    }
    head->classes = classes;
    feed->filters = anchors * head->channels_per_anchor();
  }
  return def;
}

}  // namespace models

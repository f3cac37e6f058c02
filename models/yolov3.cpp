#include "models/yolov3.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"

namespace models {

namespace {

// Appends layers while tracking names and indices, so the generator reads
// like the cfg it reproduces.
class Builder {
 public:
  Builder(double width, int input_size, std::string source) : width_(width) {
    g_.def.source = std::move(source);
    g_.def.net.width = g_.def.net.height = input_size;
    g_.def.net.channels = 3;
  }

  int channels(int c) const { return std::max(1, static_cast<int>(std::lround(c * width_))); }

  int conv(const std::string& name, int filters, int size, int stride = 1) {
    ConvLayer c;
    c.filters = channels(filters);
    c.size = size;
    c.stride = stride;
    c.padding = size / 2;
    c.batch_normalize = true;
    c.activation = Activation::leaky;
    return add(c, name);
  }

  int output_conv(const std::string& name, int filters) {
    ConvLayer c;
    c.filters = filters;  // anchors x (5 + classes): never scaled
    c.activation = Activation::linear;
    return add(c, name);
  }

  int shortcut(int from) { return add(ShortcutLayer{from, Activation::linear}, ""); }
  int route(std::vector<int> layers) { return add(RouteLayer{std::move(layers)}, ""); }
  int upsample() { return add(UpsampleLayer{2, 1.0f}, ""); }
  int yolo(YoloLayer y) { return add(std::move(y), ""); }
  int last() const { return static_cast<int>(g_.def.layers.size()) - 1; }
  GeneratedNetwork take() { return std::move(g_); }

 private:
  int add(LayerSpec spec, const std::string& name) {
    g_.def.layers.push_back({std::move(spec), 0});
    g_.names.push_back(name);
    return last();
  }
  double width_;
  GeneratedNetwork g_;
};

void add_backbone(Builder& b) {
  b.conv("backbone.stem", 32, 3);
  const int stage_channels[] = {64, 128, 256, 512, 1024};
  const int stage_blocks[] = {1, 2, 8, 8, 4};
  for (int s = 0; s < 5; ++s) {
    const std::string stage = fmt::format("backbone.stage{}", s + 1);
    b.conv(stage + ".down", stage_channels[s], 3, 2);
    for (int k = 0; k < stage_blocks[s]; ++k) {
      const std::string block = fmt::format("{}.block{}", stage, k + 1);
      const int input = b.last();
      b.conv(block + ".conv1", stage_channels[s] / 2, 1);
      b.conv(block + ".conv2", stage_channels[s], 3);
      b.shortcut(input);
    }
  }
}

// Five alternating 1x1/3x3 convs, then the head's 3x3 and its output conv.
// Returns the index of the fifth conv (where the next level branches off).
int add_level(Builder& b, int level, int channels, const YoloLayer& yolo) {
  const std::string neck = fmt::format("neck.level{}", level);
  for (int k = 0; k < 5; ++k) b.conv(fmt::format("{}.conv{}", neck, k), k % 2 == 0 ? channels : channels * 2, k % 2 ? 3 : 1);
  const int branch = b.last();
  const std::string head = fmt::format("head.level{}", level);
  b.conv(head + ".conv", channels * 2, 3);
  b.output_conv(head + ".out", static_cast<int>(yolo.mask.size()) * (yolo.classes + 5));
  b.yolo(yolo);
  return branch;
}

}  // namespace

void validate(const YoloV3Options& o) {
  if (o.num_classes <= 0) throw core::ValueError(fmt::format("yolov3: num_classes must be positive, got {}", o.num_classes));
  if (!(o.width > 0)) throw core::ValueError(fmt::format("yolov3: width multiplier must be positive, got {}", o.width));
  if (o.input_size <= 0 || o.input_size % 32 != 0) {
    throw core::ValueError(fmt::format("yolov3: input size {} is not a positive multiple of 32", o.input_size));
  }
  if (o.anchors.empty() || o.anchors.size() % 2 != 0) {
    throw core::ValueError(fmt::format("yolov3: anchors must be (w, h) pairs, got {} values", o.anchors.size()));
  }
  if (o.masks.size() != 3) throw core::ValueError(fmt::format("yolov3: needs 3 masks (one per head), got {}", o.masks.size()));
  const int num = static_cast<int>(o.anchors.size() / 2);
  for (const auto& m : o.masks) {
    if (m.empty()) throw core::ValueError("yolov3: a mask is empty");
    for (int i : m) {
      if (i < 0 || i >= num) throw core::ValueError(fmt::format("yolov3: mask index {} is outside the {} anchors", i, num));
    }
  }
}

GeneratedNetwork darknet53_backbone(double width, int input_size) {
  Builder b(width, input_size, "darknet53");
  add_backbone(b);
  return b.take();
}

GeneratedNetwork yolov3(const YoloV3Options& o) {
  validate(o);
  Builder b(o.width, o.input_size, "yolov3");
  add_backbone(b);  // layers 0..74; stage outputs at 36 (stride 8) and 61 (stride 16)
  const int stride8 = 36, stride16 = 61;
  auto yolo_for = [&](int level) {
    YoloLayer y;
    y.classes = o.num_classes;
    y.mask = o.masks[level];
    y.anchors.assign(o.anchors.begin(), o.anchors.end());
    y.ignore_thresh = o.ignore_thresh;
    return y;
  };
  const int branch0 = add_level(b, 0, 512, yolo_for(0));
  b.route({branch0});
  b.conv("neck.level1.lateral", 256, 1);
  b.upsample();
  b.route({b.last(), stride16});
  const int branch1 = add_level(b, 1, 256, yolo_for(1));
  b.route({branch1});
  b.conv("neck.level2.lateral", 128, 1);
  b.upsample();
  b.route({b.last(), stride8});
  add_level(b, 2, 128, yolo_for(2));
  return b.take();
}

}  // namespace models

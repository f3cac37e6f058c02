// A network description in Darknet's vocabulary, independent of any file:
// the [net] settings and one typed record per layer. The .cfg reader fills it
// (cfg_to_network_def) and the built-in YOLOv3 produces the same structure,
// so one builder, one weights loader and one summary serve both.
#pragma once

#include <string>
#include <variant>
#include <vector>

namespace models {

enum class Activation { linear, leaky, logistic, relu };

struct NetSettings {
  int batch = 1;
  int subdivisions = 1;
  int width = 0;
  int height = 0;
  int channels = 0;
  double momentum = 0.9;
  double decay = 0.0001;
  double learning_rate = 0.001;
  int burn_in = 0;
  int max_batches = 0;
};

struct ConvLayer {
  int filters = 1;
  int size = 1;
  int stride = 1;
  int padding = 0;  // pixels per side, already resolved from Darknet's pad flag
  int groups = 1;
  bool batch_normalize = false;
  Activation activation = Activation::logistic;  // Darknet's default
};

struct ShortcutLayer {
  int from = 0;  // absolute layer index
  Activation activation = Activation::linear;
};

struct RouteLayer {
  std::vector<int> layers;  // absolute layer indices, in concatenation order
};

struct UpsampleLayer {
  int stride = 2;
  float scale = 1.0f;
};

struct MaxpoolLayer {
  int size = 1;
  int stride = 1;
  int padding = 0;  // TOTAL padding: padding/2 before, the rest after (Darknet)
};

struct YoloLayer {
  int classes = 20;
  // The head's input holds, anchor by anchor, 4 box offsets, the
  // objectness, then one score per class (docs/yolo_loss.md).
  int channels_per_anchor() const { return 5 + classes; }
  int objectness_channel(int anchor) const { return anchor * channels_per_anchor() + 4; }
  std::vector<int> mask;
  std::vector<float> anchors;  // w0,h0,w1,h1,... in network-input pixels
  float ignore_thresh = 0.5f;
  float truth_thresh = 1.0f;
  float jitter = 0.2f;
  bool random = false;
  int max_boxes = 90;
};

struct AvgpoolLayer {};

struct SoftmaxLayer {
  int groups = 1;
  float temperature = 1.0f;
};

using LayerSpec = std::variant<ConvLayer, ShortcutLayer, RouteLayer, UpsampleLayer, MaxpoolLayer, YoloLayer,
                               AvgpoolLayer, SoftmaxLayer>;

struct LayerDef {
  LayerSpec spec;
  int line = 0;  // where the section starts in its .cfg (0 for built-in models)
};

struct NetworkDef {
  std::string source;  // file path, or a name for built-in models
  NetSettings net;
  std::vector<LayerDef> layers;
};

// Darknet's section name for a layer ("convolutional", "route", ...).
std::string layer_type_name(const LayerSpec& spec);
std::string activation_name(Activation a);

// Output shape of one image at each layer.
struct LayerShape {
  int c = 0, h = 0, w = 0;
};

// Propagates an input of channels x height x width through the layers.
// Throws core::ShapeError naming the source, layer index and line for routes
// of mismatched grids, shortcuts of mismatched shapes, yolo layers whose
// input channels differ from len(mask)*(classes+5), and layers that shrink
// the input to nothing.
std::vector<LayerShape> infer_shapes(const NetworkDef& def, int channels, int height, int width);

// The class count of the [yolo] layers; 0 without any. Throws
// core::ValueError naming the source when the layers disagree.
int yolo_class_count(const NetworkDef& def);

// The same network predicting `classes` classes: every [yolo] layer's
// classes and the filters of the convolution that feeds it, which must be
// the layer just before it with len(mask) x (classes + 5) filters (as in
// every YOLOv3 cfg); core::ValueError naming the layer and line otherwise.
NetworkDef with_class_count(NetworkDef def, int classes);

}  // namespace models

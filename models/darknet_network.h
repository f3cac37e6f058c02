// DarknetNetwork: a Module that runs any NetworkDef (from a .cfg file or from
// the built-in YOLOv3 generator) with the project's ops. One builder serves
// both, so the built-in model and the cfg-built one take the same weights
// files and give the same outputs.
#pragma once

#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "models/darknet_weights.h"
#include "models/module.h"
#include "models/network_def.h"
#include "ops/batch_norm2d.h"
#include "ops/conv2d.h"
#include "ops/conv_bn_leaky.h"

namespace models {

// How batch norm normalises in inference: Darknet's CPU formula
// (x - mean) / (sqrt(var) + 1e-6), or the standard (x - mean) / sqrt(var + eps).
// Training always uses batch statistics the standard way.
enum class BnStyle { standard, darknet };
std::string bn_style_name(BnStyle s);
// Throws core::ValueError for anything but "standard" or "darknet".
BnStyle parse_bn_style(const std::string& name);

struct NetworkOptions {
  BnStyle bn_style = BnStyle::standard;
  double bn_momentum = 0.1;   // PyTorch meaning: running = (1-m) running + m batch
  double bn_eps = 1e-5;
  std::uint64_t init_seed = 0;  // weights ~ N(0, sqrt(2 / fan_in)), as Darknet
  core::DType dtype = core::DType::f32;  // float64 for gradient checks of the whole model
  ops::SumAcrossReplicas bn_sync;        // set: synchronised batch norm in training (data-parallel runs)
  bool bf16 = false;  // float32 networks: convolutions multiply in bfloat16 (mixed precision, AVX512-BF16)
};

// One [convolutional] section: conv, then batch norm or a bias, then the
// activation.
class ConvBlock : public Module {
 public:
  ConvBlock(const ConvLayer& spec, int in_channels, core::DType dtype, std::mt19937_64& rng);
  core::Tensor forward(core::Tape& tape, const core::Tensor& x, const NetworkOptions& options) const;
  DarknetConvTensors darknet_tensors(int layer_index) const;
  // See DarknetNetwork::release_unfolded_weights; `name` is the weight's
  // parameter name, for the error a later read throws. Whether the block
  // folds at all (batch norm and leaky ReLU) is its own business: other
  // blocks keep their weights.
  void release_unfolded_weights(const std::string& name);

 private:
  ConvLayer spec_;
  core::Tensor weight_, bias_;                         // bias_ only without batch norm
  core::Tensor bn_weight_, bn_bias_, running_mean_, running_var_;
  // Evaluation folds batch norm into the weights once, not every forward.
  mutable ops::FoldedWeights folded_;
  mutable std::mutex folded_mutex_;
  // Set by release_unfolded_weights: weight_ is released after the next
  // inference forward that leaves the fold independent of it.
  std::string release_as_;
  mutable bool released_ = false;
};

class DarknetNetwork : public Module {
 public:
  // Names: def layer i gets `names[i]` when given (built-in models), else
  // "layers.<i>". Throws core::ShapeError when the def's shapes do not chain.
  DarknetNetwork(NetworkDef def, NetworkOptions options, std::vector<std::string> names = {});

  struct Output {
    std::vector<core::Tensor> heads;   // the input of each [yolo] layer, in cfg order: [N, S*(5+C), H, W]
    std::vector<core::Tensor> layers;  // every layer's output, when asked for
  };
  // x is [N, channels, H, W] float; H and W must be multiples of 32 when the
  // network has [yolo] layers. Throws core::ShapeError otherwise.
  Output forward(core::Tape& tape, const core::Tensor& x, bool keep_all_layers = false) const;

  const NetworkDef& def() const { return def_; }
  const NetworkOptions& options() const { return options_; }
  void set_bn_style(BnStyle style) { options_.bn_style = style; }
  void set_bn_sync(ops::SumAcrossReplicas sync) { options_.bn_sync = std::move(sync); }
  void set_bf16(bool bf16) { options_.bf16 = bf16; }
  // The [yolo] layers' settings in cfg order.
  std::vector<YoloLayer> yolo_layers() const;
  // For a network that will only run inference from now on (yolo detect,
  // yolo bench forward): each conv block with batch norm and leaky ReLU,
  // which inference runs on weights with batch norm folded in, gives the
  // memory of its unfolded float32 weights back to the system at its next
  // inference forward, keeping only the fold (in the convolution's layout,
  // read back when another input size needs another). YOLOv3's forward
  // then holds one copy of most weights instead of two. Reading a released
  // weight afterwards (training, saving, exporting) throws core::Error
  // naming it, and so does a forward after a change that needs a new fold
  // (set_bf16, set_bn_style, new batch-norm statistics); batch-norm vectors
  // and the other layers are kept. Calling it again changes nothing.
  void release_unfolded_weights();
  // Downsample ratio of each [yolo] layer for an input of this size.
  std::vector<int> yolo_strides(int height, int width) const;
  // Parameters of every conv layer in cfg order, for .weights files.
  std::vector<DarknetConvTensors> darknet_conv_tensors() const;
  // Each [yolo] layer with the conv that feeds it (the layer just before),
  // when that conv has biases (no batch norm), in cfg order: what an
  // initialisation of the heads' outputs writes to.
  struct HeadOutputConv {
    YoloLayer head;
    DarknetConvTensors conv;
  };
  std::vector<HeadOutputConv> head_output_convs() const;

 private:
  NetworkDef def_;
  NetworkOptions options_;
  std::vector<ConvBlock*> convs_;  // per layer; null for non-conv layers
  std::vector<std::string> conv_names_;  // per layer: the conv block's module name
  std::vector<bool> referenced_;          // outputs needed by a later route/shortcut
  // Per layer j: the referenced outputs that layer j reads for the last
  // time. forward() drops them after layer j, so an inference forward holds
  // only the activations still to be read.
  std::vector<std::vector<int>> last_read_by_;
};

}  // namespace models

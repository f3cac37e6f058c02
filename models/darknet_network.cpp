#include "models/darknet_network.h"

#include <fmt/format.h>

#include <cmath>

#include "core/buffer_cache.h"
#include "core/error.h"
#include "ops/batch_norm2d.h"
#include "ops/binary.h"
#include "ops/conv_bn_leaky.h"
#include "ops/maxpool2d.h"
#include "ops/reduce.h"
#include "ops/shape_ops.h"
#include "ops/unary.h"
#include "ops/upsample_nearest2d.h"

namespace models {

using core::DType;
using core::Tape;
using core::Tensor;

std::string bn_style_name(BnStyle s) { return s == BnStyle::darknet ? "darknet" : "standard"; }

BnStyle parse_bn_style(const std::string& name) {
  if (name == "darknet") return BnStyle::darknet;
  if (name == "standard") return BnStyle::standard;
  throw core::ValueError(fmt::format("unknown batch-norm style '{}' (expected standard or darknet)", name));
}

namespace {

Tensor activate(Tape& tape, const Tensor& x, Activation a) {
  switch (a) {
    case Activation::linear: return x;
    case Activation::leaky: return ops::leaky_relu(tape, x, {0.1});
    case Activation::logistic: return ops::sigmoid(tape, x);
    case Activation::relu: return ops::relu(tape, x);
  }
  return x;
}

}  // namespace

ConvBlock::ConvBlock(const ConvLayer& spec, int in_channels, DType dtype, std::mt19937_64& rng) : spec_(spec) {
  const int fan_in = spec.size * spec.size * in_channels / spec.groups;
  weight_ = register_parameter(
      "conv.weight", Tensor::randn({spec.filters, in_channels / spec.groups, spec.size, spec.size}, dtype, rng,
                                   0.0, std::sqrt(2.0 / fan_in)));
  if (spec.batch_normalize) {
    bn_weight_ = register_parameter("bn.weight", Tensor::ones({spec.filters}, dtype));
    bn_bias_ = register_parameter("bn.bias", Tensor::zeros({spec.filters}, dtype));
    running_mean_ = register_buffer("bn.running_mean", Tensor::zeros({spec.filters}, dtype));
    // Darknet starts at variance 0; 1 keeps a fresh network usable in eval mode.
    running_var_ = register_buffer("bn.running_var", Tensor::ones({spec.filters}, dtype));
  } else {
    bias_ = register_parameter("conv.bias", Tensor::zeros({spec.filters}, dtype));
  }
}

Tensor ConvBlock::forward(Tape& tape, const Tensor& x, const NetworkOptions& options) const {
  const ops::Conv2dParams conv{spec_.stride, spec_.padding, 1, spec_.groups, options.bf16};
  if (!spec_.batch_normalize) return activate(tape, ops::conv2d(tape, x, weight_, bias_, conv), spec_.activation);

  const ops::BatchNorm2dParams bn{training(), options.bn_momentum, options.bn_eps,
                                  options.bn_style == BnStyle::darknet && !training(),
                                  training() ? options.bn_sync : ops::SumAcrossReplicas()};
  ops::BatchNorm2dResult r;
  Tensor y;
  if (spec_.activation == Activation::leaky) {
    std::unique_lock lock(folded_mutex_, std::defer_lock);
    if (!training() && !tape.recording()) lock.lock();  // the fused path reads and may refill folded_
    r = ops::conv_bn_leaky(tape, x, weight_, Tensor(), bn_weight_, bn_bias_, running_mean_, running_var_,
                           {conv, bn, 0.1, &folded_});
    y = r.y;
    // Only after the fused path (it holds the lock): a recording tape may
    // have saved weight_ for its backward.
    if (lock.owns_lock() && !release_as_.empty() && !released_ && folded_.w.defined()) {
      weight_.release_values(fmt::format(
          "{} was released after batch norm was folded into it (DarknetNetwork::release_unfolded_weights, for "
          "inference only): load the model again to train, save or export it, or to change its precision or "
          "batch-norm style", release_as_));
      released_ = true;
      // Its small blocks' pages stay with the heap unless given back; once
      // per block, as each goes, since the fold grows the forward's peak.
      core::give_freed_heap_back();
    }
  } else {
    r = ops::batch_norm2d(tape, ops::conv2d(tape, x, weight_, Tensor(), conv), bn_weight_, bn_bias_, running_mean_,
                          running_var_, bn);
    y = activate(tape, r.y, spec_.activation);
  }
  if (training()) {
    // The op returns updated statistics; the buffers keep their identity.
    running_mean_.copy_(r.running_mean);
    running_var_.copy_(r.running_var);
  }
  return y;
}

void ConvBlock::release_unfolded_weights(const std::string& name) {
  if (!spec_.batch_normalize || spec_.activation != Activation::leaky) return;
  const std::lock_guard lock(folded_mutex_);
  if (!release_as_.empty()) return;  // asked before: the fold may already be all that is left
  release_as_ = name;
}

DarknetConvTensors ConvBlock::darknet_tensors(int layer_index) const {
  DarknetConvTensors t;
  t.layer_index = layer_index;
  t.weights = weight_;
  if (spec_.batch_normalize) {
    t.biases = bn_bias_;
    t.scales = bn_weight_;
    t.rolling_mean = running_mean_;
    t.rolling_var = running_var_;
  } else {
    t.biases = bias_;
  }
  return t;
}

DarknetNetwork::DarknetNetwork(NetworkDef def, NetworkOptions options, std::vector<std::string> names)
    : def_(std::move(def)), options_(options) {
  const auto shapes = infer_shapes(def_, def_.net.channels, def_.net.height, def_.net.width);
  std::mt19937_64 rng(options_.init_seed);
  convs_.assign(def_.layers.size(), nullptr);
  conv_names_.assign(def_.layers.size(), "");
  referenced_.assign(def_.layers.size(), false);
  std::vector<int> last_reader(def_.layers.size(), -1);
  for (std::size_t i = 0; i < def_.layers.size(); ++i) {
    const LayerSpec& spec = def_.layers[i].spec;
    if (const auto* c = std::get_if<ConvLayer>(&spec)) {
      const int in_c = i == 0 ? def_.net.channels : shapes[i - 1].c;
      const std::string name = i < names.size() && !names[i].empty() ? names[i] : fmt::format("layers.{}", i);
      convs_[i] = &register_module(name, std::make_unique<ConvBlock>(*c, in_c, options_.dtype, rng));
      conv_names_[i] = name;
    } else if (const auto* s = std::get_if<ShortcutLayer>(&spec)) {
      last_reader[s->from] = static_cast<int>(i);
    } else if (const auto* r = std::get_if<RouteLayer>(&spec)) {
      for (int l : r->layers) last_reader[l] = static_cast<int>(i);
    }
  }
  last_read_by_.resize(def_.layers.size());
  for (std::size_t l = 0; l < last_reader.size(); ++l) {
    if (last_reader[l] < 0) continue;
    referenced_[l] = true;
    last_read_by_[last_reader[l]].push_back(static_cast<int>(l));
  }
}

std::vector<YoloLayer> DarknetNetwork::yolo_layers() const {
  std::vector<YoloLayer> out;
  for (const auto& l : def_.layers) {
    if (const auto* y = std::get_if<YoloLayer>(&l.spec)) out.push_back(*y);
  }
  return out;
}

void DarknetNetwork::release_unfolded_weights() {
  if (training()) throw core::Error("release_unfolded_weights: the network is in training mode");
  for (std::size_t i = 0; i < convs_.size(); ++i) {
    if (convs_[i]) convs_[i]->release_unfolded_weights(conv_names_[i] + ".conv.weight");
  }
}

std::vector<int> DarknetNetwork::yolo_strides(int height, int width) const {
  const auto shapes = infer_shapes(def_, def_.net.channels, height, width);
  std::vector<int> out;
  for (std::size_t i = 0; i < def_.layers.size(); ++i) {
    if (std::holds_alternative<YoloLayer>(def_.layers[i].spec)) out.push_back(height / shapes[i].h);
  }
  return out;
}

std::vector<DarknetConvTensors> DarknetNetwork::darknet_conv_tensors() const {
  std::vector<DarknetConvTensors> out;
  for (std::size_t i = 0; i < convs_.size(); ++i) {
    if (convs_[i]) out.push_back(convs_[i]->darknet_tensors(static_cast<int>(i)));
  }
  return out;
}

std::vector<DarknetNetwork::HeadOutputConv> DarknetNetwork::head_output_convs() const {
  std::vector<HeadOutputConv> out;
  for (std::size_t i = 1; i < def_.layers.size(); ++i) {
    const auto* head = std::get_if<YoloLayer>(&def_.layers[i].spec);
    if (head == nullptr || convs_[i - 1] == nullptr) continue;
    DarknetConvTensors conv = convs_[i - 1]->darknet_tensors(static_cast<int>(i - 1));
    if (!conv.scales.defined()) out.push_back({*head, std::move(conv)});
  }
  return out;
}

DarknetNetwork::Output DarknetNetwork::forward(Tape& tape, const Tensor& x, bool keep_all_layers) const {
  if (x.dim() != 4 || x.size(1) != def_.net.channels) {
    throw core::ShapeError(fmt::format("{}: input must be [N,{},H,W], got {}", def_.source, def_.net.channels,
                                       x.describe()));
  }
  const int height = static_cast<int>(x.size(2));
  const int width = static_cast<int>(x.size(3));
  const bool has_yolo = !yolo_layers().empty();
  if (has_yolo && (height % 32 != 0 || width % 32 != 0)) {
    throw core::ShapeError(fmt::format("{}: input size {}x{} (HxW) is not a multiple of 32", def_.source, height,
                                       width));
  }
  infer_shapes(def_, def_.net.channels, height, width);  // clear errors before any compute

  Output out;
  std::vector<Tensor> kept(def_.layers.size());
  Tensor prev = x;
  for (std::size_t i = 0; i < def_.layers.size(); ++i) {
    const LayerSpec& spec = def_.layers[i].spec;
    Tensor y;
    if (convs_[i]) {
      y = convs_[i]->forward(tape, prev, options_);
    } else if (const auto* s = std::get_if<ShortcutLayer>(&spec)) {
      y = activate(tape, ops::add(tape, prev, kept[s->from]), s->activation);
    } else if (const auto* r = std::get_if<RouteLayer>(&spec)) {
      std::vector<Tensor> parts;
      for (int l : r->layers) parts.push_back(kept[l]);
      y = parts.size() == 1 ? parts[0] : ops::concat(tape, parts, 1);
    } else if (const auto* u = std::get_if<UpsampleLayer>(&spec)) {
      y = ops::upsample_nearest2d(tape, prev, {u->stride});
      if (u->scale != 1.0f) y = ops::mul_scalar(tape, y, u->scale);
    } else if (const auto* m = std::get_if<MaxpoolLayer>(&spec)) {
      // Darknet's total padding: padding/2 before, the rest after.
      y = ops::maxpool2d(tape, prev, {m->size, m->stride, m->padding / 2, m->padding - m->padding / 2});
    } else if (std::holds_alternative<YoloLayer>(spec)) {
      // The head is the raw input; the loss and the decoder apply the sigmoids.
      out.heads.push_back(prev);
      y = prev;
    } else if (std::holds_alternative<AvgpoolLayer>(spec)) {
      y = ops::mean(tape, prev, {{2, 3}, true});
    } else if (const auto* sm = std::get_if<SoftmaxLayer>(&spec)) {
      if (sm->groups != 1) throw core::ValueError(fmt::format("{}: softmax groups != 1 is not supported", def_.source));
      Tensor e = ops::exp(tape, ops::mul_scalar(tape, prev, 1.0 / sm->temperature));
      y = ops::div(tape, e, ops::sum(tape, e, {{1}, true}));
    }
    if (referenced_[i] || keep_all_layers) kept[i] = y;
    if (keep_all_layers) out.layers.push_back(y);
    prev = y;
    // Outputs read for the last time by this layer are dropped now: under an
    // inference tape their buffers go back to the cache for later layers.
    if (!keep_all_layers) {
      for (int from : last_read_by_[i]) kept[from] = Tensor();
    }
  }
  return out;
}

}  // namespace models

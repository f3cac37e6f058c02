#include "tools/yolo/convert_command.h"

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "models/checkpoint.h"
#include "models/darknet_weights.h"
#include "tools/yolo/cfg_model.h"

namespace yolo {

namespace {

std::string shape_str(const core::Tensor& t) { return t.defined() ? t.describe() : "none"; }

// The checkpoint's conv layers must line up with the cfg's, tensor for
// tensor, or the .weights file would load into the wrong places.
void check_same_conv_layers(const std::vector<models::DarknetConvTensors>& cfg_layers,
                            const std::vector<models::DarknetConvTensors>& ckpt_layers, const ConvertArgs& args) {
  if (cfg_layers.size() != ckpt_layers.size()) {
    throw core::ShapeError(fmt::format("convert: {} has {} conv layers but checkpoint {} has {}", args.cfg,
                                       cfg_layers.size(), args.checkpoint, ckpt_layers.size()));
  }
  for (std::size_t i = 0; i < cfg_layers.size(); ++i) {
    const auto& a = cfg_layers[i];
    const auto& b = ckpt_layers[i];
    const std::pair<const char*, std::pair<const core::Tensor*, const core::Tensor*>> parts[] = {
        {"biases", {&a.biases, &b.biases}},
        {"scales", {&a.scales, &b.scales}},
        {"rolling_mean", {&a.rolling_mean, &b.rolling_mean}},
        {"rolling_var", {&a.rolling_var, &b.rolling_var}},
        {"weights", {&a.weights, &b.weights}}};
    for (const auto& [name, pair] : parts) {
      const core::Tensor& x = *pair.first;
      const core::Tensor& y = *pair.second;
      if (x.defined() != y.defined() || (x.defined() && x.shape() != y.shape())) {
        throw core::ShapeError(fmt::format(
            "convert: conv layer {} of {} (layer {} in the checkpoint): {} is {} in the cfg but {} in {}", i,
            args.cfg, b.layer_index, name, shape_str(x), shape_str(y), args.checkpoint));
      }
    }
  }
}

}  // namespace

void run_convert_command(const ConvertArgs& args, std::ostream& out) {
  if (args.cfg.empty()) throw core::ConfigError("convert: --cfg FILE.cfg is required");
  if (args.out.empty()) throw core::ConfigError("convert: --out FILE is required");
  if (args.weights.empty() == args.checkpoint.empty()) {
    throw core::ConfigError("convert: give exactly one of --weights IN.weights and --checkpoint IN.ckpt");
  }
  const models::Model model = model_from_cfg(args.cfg);

  if (!args.weights.empty()) {
    const std::string bytes = core::read_file(args.weights);
    if (models::is_checkpoint(bytes)) {
      throw core::ConfigError(fmt::format(
          "convert: {} is a native checkpoint, not Darknet weights; use --checkpoint {} --out OUT.weights",
          args.weights, args.weights));
    }
    const models::WeightsLoadReport r =
        models::parse_darknet_weights(bytes, args.weights, model.network->darknet_conv_tensors());
    models::save_model_checkpoint(args.out, model);
    out << fmt::format("{} -> {}: {} of {} conv layers (seen {})\n", args.weights, args.out, r.layers_filled,
                       r.conv_layers, r.header.seen);
    if (!r.complete()) {
      out << fmt::format("note: the weights file ends after {} conv layers; the other {} keep a fresh "
                         "initialisation in the checkpoint\n",
                         r.layers_filled, r.conv_layers - r.layers_filled);
    }
    return;
  }

  if (models::looks_like_darknet_weights(core::read_file(args.checkpoint))) {
    throw core::ConfigError(fmt::format(
        "convert: {} is a Darknet weights file, not a checkpoint; use --weights {} --out OUT.ckpt", args.checkpoint,
        args.checkpoint));
  }
  const models::LoadedCheckpoint ckpt = models::load_model_checkpoint(args.checkpoint);
  const std::vector<models::DarknetConvTensors> tensors = ckpt.model.network->darknet_conv_tensors();
  check_same_conv_layers(model.network->darknet_conv_tensors(), tensors, args);
  models::save_darknet_weights(args.out, tensors);
  out << fmt::format("{} -> {}: {} conv layers\n", args.checkpoint, args.out, tensors.size());
  if (ckpt.model.meta.bn_style != models::BnStyle::darknet) {
    // Darknet's CPU inference divides by sqrt(var) + 1e-6, not sqrt(var + eps).
    out << "note: the checkpoint uses standard batch norm; Darknet will normalise with its own formula, which "
           "differs for channels with tiny rolling variance\n";
  }
}

}  // namespace yolo

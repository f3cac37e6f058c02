#include "tools/yolo/inference_model.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <fstream>

#include "core/error.h"
#include "models/checkpoint.h"
#include "tools/yolo/cfg_model.h"
#include "train/trainer.h"

namespace yolo {

bool is_checkpoint_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw core::IoError(fmt::format("--weights {}: cannot open the file", path));
  std::string head(16, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return models::is_checkpoint(head);
}

namespace {

void report_darknet_fill(const std::string& weights, const models::WeightsLoadSummary& w, std::ostream& log) {
  if (w.layers_filled < w.conv_layers) {
    fmt::print(log, "warning: {} fills only {} of {} conv layers; the rest keep their random initialisation\n",
               weights, w.layers_filled, w.conv_layers);
  }
}

}  // namespace

models::Model load_config_model(const train::TrainConfig& config, const std::string& weights,
                                const std::vector<std::string>& class_names, std::ostream& log) {
  if (weights.empty()) throw core::ConfigError("--weights FILE is required (Darknet .weights or a checkpoint)");
  models::Model model = train::build_model(config, class_names);
  model.network->set_training(false);
  const models::WeightsLoadSummary w = models::load_weights_into(model, weights);
  fmt::print(log, "model: {} with {} ({}, {} classes, input {})\n",
             config.model.cfg.empty() ? fmt::format("built-in YOLOv3 (width {})", config.model.width) : config.model.cfg,
             weights, w.format, class_names.size(), model.meta.input_size);
  if (w.format == "darknet") report_darknet_fill(weights, w, log);
  return model;
}

models::Model load_inference_model(const ModelSource& source, std::ostream& log) {
  if (source.weights.empty()) throw core::ConfigError("--weights FILE is required (Darknet .weights or a checkpoint)");
  const bool checkpoint = is_checkpoint_file(source.weights);
  if (source.cfg.empty()) {
    if (!checkpoint) {
      throw core::ConfigError(fmt::format("--weights {} holds Darknet weights, which do not describe the network: "
                                          "give --cfg FILE.cfg too", source.weights));
    }
    models::LoadedCheckpoint loaded = models::load_model_checkpoint(source.weights);
    loaded.model.network->set_training(false);
    fmt::print(log, "model: {} (checkpoint, {} classes, input {}, bn {})\n", source.weights,
               loaded.model.meta.class_names.size(), loaded.model.meta.input_size,
               models::bn_style_name(loaded.model.meta.bn_style));
    return std::move(loaded.model);
  }
  models::Model model = model_from_cfg(source.cfg);
  if (checkpoint) {
    // Parameters by name from the checkpoint; its class names travel along.
    const models::LoadedCheckpoint loaded = models::load_model_checkpoint(source.weights);
    models::restore_state(model, loaded.file);
    model.meta.class_names = loaded.model.meta.class_names;
    fmt::print(log, "model: {} with {} (checkpoint)\n", source.cfg, source.weights);
    return model;
  }
  const models::WeightsLoadSummary w = models::load_weights_into(model, source.weights);
  fmt::print(log, "model: {} with {} (Darknet, {} of {} conv layers filled)\n", source.cfg, source.weights,
             w.layers_filled, w.conv_layers);
  report_darknet_fill(source.weights, w, log);
  return model;
}

}  // namespace yolo

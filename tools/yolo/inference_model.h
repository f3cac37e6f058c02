// The model that `yolo detect` and model-mode `yolo eval` run: from a native
// checkpoint alone (it describes its network), from a Darknet .cfg with
// Darknet .weights or a checkpoint of the same layers, or from a training
// config (the network it trains) with either kind of weights.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "models/model_file.h"
#include "train/config.h"

namespace yolo {

struct ModelSource {
  std::string weights;  // required: Darknet .weights or a native checkpoint (told apart by the magic)
  std::string cfg;      // optional Darknet .cfg; required for Darknet .weights
};

// Loads the model, in eval mode. A cfg-built model keeps Darknet's
// inference batch norm and its [net] size; with a checkpoint for weights it
// also takes the checkpoint's class names. One line about what was loaded
// goes to `log`. Throws core::ConfigError when --weights is missing or
// Darknet .weights come without a cfg, and whatever the cfg reader and the
// weights loaders throw (core::IoError naming the file).
models::Model load_inference_model(const ModelSource& source, std::ostream& log);

// The network `config` describes (train::build_model) with `class_names`,
// its input settings, and the weights of `weights` loaded by name
// (checkpoint) or in Darknet's layer order (.weights); in eval mode. Throws
// as load_inference_model.
models::Model load_config_model(const train::TrainConfig& config, const std::string& weights,
                                const std::vector<std::string>& class_names, std::ostream& log);

// Whether the file starts with the native checkpoint magic. Throws
// core::IoError naming the path when it cannot be read.
bool is_checkpoint_file(const std::string& path);

}  // namespace yolo

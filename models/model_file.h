// A model together with what is needed to use it: class names, input
// normalisation and resize mode, batch-norm style, and its network
// definition. Native checkpoints store all of it (the network as .cfg text,
// so a checkpoint is self-describing); Darknet .weights carry parameters only
// and need a cfg or a config to describe the network.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "models/checkpoint.h"
#include "models/darknet_network.h"

namespace models {

struct ModelMeta {
  std::vector<std::string> class_names;
  BnStyle bn_style = BnStyle::standard;
  std::string resize = "letterbox";  // letterbox | stretch
  bool mean_std = false;             // inputs are [0,1] RGB, optionally (x - mean) / std
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
  int input_size = 416;
};

struct Model {
  std::unique_ptr<DarknetNetwork> network;
  ModelMeta meta;
  std::vector<std::string> layer_names;  // per layer, as given to the network
};

// Builds a freshly initialised model.
Model make_model(const NetworkDef& def, std::vector<std::string> layer_names, ModelMeta meta,
                 NetworkOptions options = {});

// Writes parameters, buffers, `extra` tensors (optimizer state...) and
// `extra_json` (training state, a JSON object or empty) atomically.
void save_model_checkpoint(const std::string& path, const Model& model,
                           const std::vector<std::pair<std::string, core::Tensor>>& extra = {},
                           const std::string& extra_json = "");

struct LoadedCheckpoint {
  Model model;
  Checkpoint file;         // every tensor (optimizer state included) and the raw metadata
  std::string extra_json;  // what save_model_checkpoint got as extra_json
};
// Rebuilds the network from the checkpoint's own definition and fills it,
// with the moving-average weights (`ema.*`) when the run kept them: the
// weights it evaluated with. Resuming restores the live ones (restore_state).
// Throws core::IoError naming the file for malformed metadata, a missing
// tensor or a tensor of the wrong shape.
LoadedCheckpoint load_model_checkpoint(const std::string& path);

// Copies matching tensors of `ckpt` into the model by name; every model
// tensor must be present with the same shape and dtype (core::IoError
// otherwise, naming the tensor and both shapes).
void restore_state(const Model& model, const Checkpoint& ckpt);

struct WeightsLoadSummary {
  std::string format;     // "darknet" or "checkpoint"
  int layers_filled = 0;  // conv layers filled (darknet)
  int conv_layers = 0;
};
// Loads Darknet .weights or a native checkpoint (told apart by the magic)
// into an existing model with the same network. A partial Darknet file
// fills the leading layers.
WeightsLoadSummary load_weights_into(const Model& model, const std::string& path);

}  // namespace models

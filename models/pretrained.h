// Starting a model from a file trained for something else: a checkpoint or
// Darknet .weights whose network differs from the model's, most often in
// the class count. Every tensor whose name and shape match is copied; the
// rest keep the values the model was built with (a fresh initialisation).
// docs/fine_tuning.md describes the matching and the threshold.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/shape.h"
#include "models/model_file.h"

namespace models {

// Below this share of the model's parameters loaded, the file is taken for
// the wrong one (another width, another network) and refused: a fine-tune
// from 80 classes to 3 loads over 99% of YOLOv3, a backbone-only file such
// as darknet53.conv.74 about 65%.
inline constexpr double kMinPretrainedShare = 0.5;

struct SkippedTensor {
  std::string name;
  core::Shape model_shape;
  std::optional<core::Shape> file_shape;  // empty: the file has no such tensor
};

struct PretrainedLoad {
  std::string path;
  std::string format;                        // "checkpoint" or "darknet"
  int file_classes = 0;                      // class count the file was trained for (0: unknown)
  std::vector<std::string> file_class_names;  // a checkpoint's class names
  int loaded_tensors = 0;
  std::vector<SkippedTensor> skipped;
  std::int64_t loaded_parameters = 0;  // parameter values copied (buffers not counted)
  std::int64_t model_parameters = 0;
  double loaded_share() const {
    return model_parameters > 0 ? static_cast<double>(loaded_parameters) / static_cast<double>(model_parameters) : 0;
  }
};

// Loads the tensors of `path` (told apart by magic) that match `model` by
// name and shape. A checkpoint with EMA weights gives those, the weights it
// was evaluated with. Darknet .weights are read with the model's own
// network when their size fits it (or its leading layers), else with the
// same network at the class count their size implies. Throws core::IoError
// naming the file when under kMinPretrainedShare of the parameters match.
PretrainedLoad load_pretrained(const Model& model, const std::string& path);

// The table printed at the start of a run: what was loaded, what was
// skipped with both shapes, and the class names of both sides.
std::string describe_pretrained_load(const PretrainedLoad& load, const std::vector<std::string>& model_class_names);

}  // namespace models

// What a training config describes before the loop starts: its data sets
// (generating the built-in shapes set when asked) and its model, freshly
// initialised. Used by training, `yolo eval --config` and `yolo detect`.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "models/model_file.h"
#include "train/config.h"

namespace train {

// Which split a `voc:DIR` spec without one reads: the training split
// ("trainval" where every year folder has it, else "train") or "val".
enum class DataRole { train, val };

// Reads `spec` and, when the config asks for the built-in shapes data set and
// it is absent, first generates it into data.cache_dir.
data::Dataset load_train_dataset(const TrainConfig& config, const std::string& spec, DataRole role, std::ostream& out);

// The model a config describes, freshly initialised (before any weights):
// model.cfg when set, else the built-in YOLOv3 at model.width with its
// heads' objectness biases set to model.objectness_bias. A model.cfg with
// another class count than `class_names` (when given) is resized to it, and
// `log` told so.
models::Model build_model(const TrainConfig& config, const std::vector<std::string>& class_names,
                          std::ostream* log = nullptr);

// Sets the objectness bias of every anchor of every head's output conv to
// `bias`: a prior of sigmoid(bias) for "object here" (e.g. -4), so early
// training is not swamped by the many cells without one. 0 leaves them.
void init_objectness_bias(const models::Model& model, double bias);

std::int64_t count_parameters(const models::Model& model);

}  // namespace train

// The `--config FILE.yml` form of the Darknet-format commands (forward,
// summary): the model a training config describes, as training builds it.
#pragma once

#include <ostream>
#include <string>

#include "models/model_file.h"

namespace yolo {

// Loads the config (train/config_loader.h) and builds its model
// (train::build_model) in eval mode, with the config's batch-norm style and
// input normalisation. The class count comes from model.cfg when the config
// names one, else from `weights` when that is a native checkpoint, else from
// the config's training data set (read, or
// generated first when the config asks for the synthetic shapes set); what
// was read goes to `log`. Throws core::ConfigError for a bad config and what
// the data set readers throw.
models::Model model_from_config(const std::string& config_path, const std::string& weights, std::ostream& log);

}  // namespace yolo

// Validation of a merged training config (train/config_loader.h): ranges,
// enumerations, sizes that must be multiples of 32, masks that index the
// anchors, list lengths that must agree and data set specs that parse. Each
// problem names the key it blames, so the loader can point at the file and
// line that set it (or at the default).
//
// Internal to the config code (config_*.cpp); callers use config_loader.h.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "train/config.h"

namespace train::config_internal {

// (key, message) pairs, e.g. ("model.input_size", "must be a positive multiple of 32, got 400").
using Problems = std::vector<std::pair<std::string, std::string>>;

// Every problem of `config`, grouped by section in the table's order; empty when valid.
Problems validate(const TrainConfig& config);

}  // namespace train::config_internal

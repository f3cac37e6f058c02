// What the Darknet-format commands (forward, convert, summary) share: a model
// built from a .cfg the way Darknet runs it, and the input-size rules.
#pragma once

#include <string>

#include "models/model_file.h"

namespace yolo {

// Reads a Darknet .cfg strictly (models/cfg_reader.h) and builds the network
// in eval mode with Darknet's inference batch-norm formula. Parameters are
// freshly initialised until weights are loaded.
models::Model model_from_cfg(const std::string& cfg_path);

// Throws core::ConfigError naming `what` (a flag or file) when a network
// input of height x width cannot be run: not positive, or, for a network
// with [yolo] layers, not a multiple of 32 (routes and shortcuts need the
// grids to line up).
void check_input_size(const models::NetworkDef& def, int height, int width, const std::string& what);

}  // namespace yolo

// Writes a NetworkDef back as Darknet .cfg text, so the built-in YOLOv3 can
// be exported for Darknet and compared section by section with shipped cfgs.
#pragma once

#include <string>

#include "models/network_def.h"

namespace models {

// [net] carries batch, subdivisions, width, height, channels and the
// optimiser keys of NetSettings; each layer writes every key that differs
// from nothing Darknet could default differently (all keys, explicitly).
std::string network_def_to_cfg(const NetworkDef& def);

// The layer sections only (no [net]), one canonical line per key: the form
// two definitions can be compared in.
std::string layers_to_cfg(const NetworkDef& def);

}  // namespace models

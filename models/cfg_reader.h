// Turns a parsed .cfg (cfg_file.h) into a NetworkDef, strictly: unknown
// sections, unknown keys, malformed numbers, out-of-range layer references
// and missing required keys are errors naming file, line, section and key.
// (Darknet silently defaults or crashes on all of these.)
#pragma once

#include "models/cfg_file.h"
#include "models/network_def.h"

namespace models {

NetworkDef cfg_to_network_def(const CfgFile& cfg);
// read_cfg_file + cfg_to_network_def.
NetworkDef read_network_cfg(const std::string& path);

}  // namespace models

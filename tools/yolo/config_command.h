// `yolo config`: prints a training config as the loader sees it.
//   yolo config --config FILE.yml [-o key=value ...]   the merged result (YAML, loadable again)
//   yolo config --defaults [--markdown]                every key: type, default, description
// --markdown gives docs/config_keys.md (scripts/config_reference.sh).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace yolo {

struct ConfigArgs {
  std::string config;                  // FILE.yml
  std::vector<std::string> overrides;  // -o key=value, in order
  bool defaults = false;
  bool markdown = false;
};

// Throws core::ConfigError for a bad config or a bad combination of flags.
void run_config_command(const ConfigArgs& args, std::ostream& out);

}  // namespace yolo

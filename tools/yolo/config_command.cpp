#include "tools/yolo/config_command.h"

#include "core/error.h"
#include "train/config_loader.h"

namespace yolo {

void run_config_command(const ConfigArgs& args, std::ostream& out) {
  if (args.defaults) {
    if (!args.config.empty() || !args.overrides.empty())
      throw core::ConfigError("--defaults lists the keys and their defaults; it takes no --config or -o");
    out << (args.markdown ? train::config_reference_markdown() : train::config_reference_text());
    return;
  }
  if (args.markdown) throw core::ConfigError("--markdown goes with --defaults");
  if (args.config.empty()) throw core::ConfigError("give --config FILE.yml (the merged result) or --defaults (every key)");
  out << train::dump_config(train::load_config(args.config, args.overrides));
}

}  // namespace yolo

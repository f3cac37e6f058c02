#include "tools/yolo/summary_command.h"

#include <fmt/format.h>

#include "core/error.h"
#include "models/cfg_reader.h"
#include "models/network_summary.h"
#include "tools/yolo/cfg_model.h"
#include "tools/yolo/config_model.h"

namespace yolo {

void run_summary_command(const SummaryArgs& args, std::ostream& out) {
  if (args.cfg.empty() == args.config.empty()) {
    throw core::ConfigError("summary: give exactly one of --cfg FILE.cfg and --config FILE.yml");
  }
  // From a cfg the table comes from the definition alone (no parameters are
  // allocated); a config's network depends on its data set's class count.
  const models::NetworkDef def = args.config.empty()
                                     ? models::read_network_cfg(args.cfg)
                                     : model_from_config(args.config, "", out).network->def();
  const int height = args.size ? args.size : def.net.height;
  const int width = args.size ? args.size : def.net.width;
  check_input_size(def, height, width, args.size ? fmt::format("--size {}", args.size) : def.source);
  out << models::format_network_summary(models::summarize_network(def, height, width), height, width);
}

}  // namespace yolo

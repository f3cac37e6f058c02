#include "tools/yolo/summary_command.h"

#include <fmt/format.h>

#include "core/error.h"
#include "models/cfg_reader.h"
#include "models/network_summary.h"
#include "tools/yolo/cfg_model.h"

namespace yolo {

void run_summary_command(const SummaryArgs& args, std::ostream& out) {
  if (args.cfg.empty()) throw core::ConfigError("summary: --cfg FILE.cfg is required");
  // No weights and no parameters are allocated: the table comes from the
  // definition alone, so even a full YOLOv3 prints instantly.
  const models::NetworkDef def = models::read_network_cfg(args.cfg);
  const int height = args.size ? args.size : def.net.height;
  const int width = args.size ? args.size : def.net.width;
  check_input_size(def, height, width, args.size ? fmt::format("--size {}", args.size) : def.source);
  out << models::format_network_summary(models::summarize_network(def, height, width), height, width);
}

}  // namespace yolo

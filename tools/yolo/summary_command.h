// `yolo summary (--cfg FILE.cfg | --config FILE.yml) [--size S]`: one line per
// layer (type, settings, input and output shapes, parameters, GFLOP per
// image) and the totals, at the network's input size or S x S.
#pragma once

#include <ostream>
#include <string>

namespace yolo {

struct SummaryArgs {
  std::string cfg;
  std::string config;  // training config (.yml), instead of --cfg
  int size = 0;  // 0: the cfg's width and height
};

// Throws core::ConfigError for a size the network cannot take, and what the
// cfg reader or the config loader throws.
void run_summary_command(const SummaryArgs& args, std::ostream& out);

}  // namespace yolo

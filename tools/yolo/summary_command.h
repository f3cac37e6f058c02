// `yolo summary --cfg FILE.cfg [--size S]`: one line per layer (type,
// settings, input and output shapes, parameters, GFLOP per image) and the
// totals, at the cfg's input size or S x S.
#pragma once

#include <ostream>
#include <string>

namespace yolo {

struct SummaryArgs {
  std::string cfg;
  int size = 0;  // 0: the cfg's width and height
};

// Throws core::ConfigError for a size the network cannot take, and what the
// cfg reader throws.
void run_summary_command(const SummaryArgs& args, std::ostream& out);

}  // namespace yolo

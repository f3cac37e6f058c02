// `yolo anchors --dataset SPEC [--k 9] [--size 416]`: k-means anchors (1 - IoU
// distance) printed by area, with the mean best IoU, ready for a config.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace yolo {

struct AnchorsArgs {
  std::string dataset;
  int k = 9;
  int size = 416;
  std::uint64_t seed = 0;
};

void run_anchors_command(const AnchorsArgs& args, std::ostream& out);

}  // namespace yolo

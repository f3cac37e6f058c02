// `yolo bench detect --weights W [--cfg FILE.cfg] [--image IMG] [--size S]
// [--threads N] [--steps N] [--thresh T1,T2,...] [--nms bounded|darknet]
// [--pre-nms-top-k K] [--max-dets M] [--json]`: the time `yolo detect`
// spends after the network, against the network's own forward, on one image
// (Darknet's dog.jpg when it is installed, else a generated picture). For
// each threshold: the median forward time and the median of decoding,
// letterbox correction and NMS over --steps runs, their ratio and the number
// of detections. docs/nms.md quotes its figures.
#pragma once

#include <ostream>
#include <string>

namespace yolo {

struct BenchDetectArgs {
  std::string weights, cfg, image;
  int size = 0;     // 0: the model's input size
  int threads = 0;  // 0: every core
  int steps = 5;
  std::string thresholds = "0.005,0.05,0.25,0.5";
  std::string nms = "bounded";
  int pre_nms_top_k = 1000;
  int max_dets = 100;
  bool json = false;
};

// Throws core::ConfigError naming the flag for bad values, and what loading
// the model or the image throws.
void run_bench_detect(const BenchDetectArgs& args, std::ostream& out, std::ostream& log);

}  // namespace yolo

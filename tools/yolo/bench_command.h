// `yolo bench train|forward (--cfg FILE.cfg | --config FILE.yml) [--size S]
// [--batch B] [--threads N] [--steps N] [--precision fp32|bf16]
// [--loss squares|yolo] [--subdivisions N] [--multiscale-steps N]
// [--no-prepare] [--profile]
// [--json] [--write-cfg FILE.cfg]`: the speed of a training step or an
// inference forward of a network on random inputs, without a data loader.
// Training first prepares every size it will step at, as `yolo train` does
// for multi-scale runs (models/size_preparation.h; JSON `prepared`: sizes,
// seconds, primitives); --no-prepare skips that. images_per_s is batch / the
// median step time over --steps steps after two warm-ups; two more steps at
// size + 32 show what a new multi-scale size costs: new_size_step_ratio (its
// first step over the median step) and new_size_vs_steady_ratio (its first
// step over the median of the three after it), with the page faults of the
// first, a steady and the new size's first step. --multiscale-steps N then runs a step at each size
// from size - 64 (at least 32) to size + 64 by 32 and N steps at a random
// size each, as multi-scale training draws them; it reports the mean step
// and page faults of the second half: what a settled multi-scale run pays
// per step. Human-readable output goes to `log` (stderr); --json writes one
// JSON object as the last line of `out` (stdout), with multiscale_steps
// (size, step_s, page_faults of each). Training with --subdivisions N
// times a step as `yolo train` runs one under train.subdivisions: N
// forward and backward passes of --batch images accumulated into one
// optimizer update, bf16 convolutions' converted weights kept across them
// (ops::backend::KeepConvertedWeights); images_per_s then counts the N x
// batch images of a step.
#pragma once

#include <ostream>
#include <string>

namespace yolo {

struct BenchArgs {
  std::string mode;    // train | forward
  std::string cfg;     // Darknet .cfg, or
  std::string config;  // a training config (.yml)
  int size = 0;        // square input; 0: the cfg's width x height or the config's model.input_size
  int batch = 0;       // 0: the cfg's batch / subdivisions or the config's train.batch_size
  int threads = 0;     // 0: every core
  int steps = 5;       // measured steps after the warm-ups
  int subdivisions = 1;  // train: passes accumulated per optimizer update (a step)
  int multiscale_steps = 0;  // then steps at random sizes from size - 64 (at least 32) to size + 64
  bool prepare = true;  // train: ready every size it steps at first (models/size_preparation.h)
  std::string precision = "fp32";
  std::string loss = "squares";  // squares: sum over heads of mean(head^2); yolo: the three yolo_loss heads
  bool profile = false;          // time per op kind, forward and backward, from the tape
  bool json = false;
  std::string write_cfg;         // also write the network as a Darknet .cfg (for the PyTorch peer)
};

// Throws core::ConfigError for bad flags (naming the flag), for bf16 on a CPU
// without AVX512-BF16 (bf16: convolutions multiply in bfloat16, all else fp32), and what the cfg reader or the config loader throws.
void run_bench_command(const BenchArgs& args, std::ostream& out, std::ostream& log);

}  // namespace yolo

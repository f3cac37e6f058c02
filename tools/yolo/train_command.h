// `yolo train` and `yolo plot`: run a training config into a run directory,
// resume one, or redraw its plots.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace yolo {

struct TrainCommandArgs {
  std::string config;                  // --config FILE.yml
  std::vector<std::string> overrides;  // -o key=value
  std::string run_dir;                 // --run-dir DIR (default runs/<config name>)
  std::string resume;                  // --resume DIR
  bool overwrite = false;              // --overwrite: start afresh in a run directory that holds a run
};

// Returns the exit code: 0 when training finished, 130 when Ctrl-C stopped it
// (after writing a checkpoint). Throws core::Error subclasses otherwise.
int run_train_command(const TrainCommandArgs& args, std::ostream& out);

// Redraws DIR/plots from DIR/metrics.jsonl.
void run_plot_command(const std::string& run_dir, std::ostream& out);

}  // namespace yolo

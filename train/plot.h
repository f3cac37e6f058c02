// The pictures of a run directory, redrawn from what the run saved:
// metrics.jsonl for the training curves and eval/step_NNNNNN.json for the
// evaluation pictures. docs/plots.md says what each picture shows.
#pragma once

#include <string>

#include "train/eval/eval_details.h"

namespace train {

// Writes run_dir/plots/: results.png (one sheet: total loss, each loss part
// per head, learning rate, every evaluation metric), loss.png, lr.png,
// map.png, and, from the newest eval/step_NNNNNN.json, pr_curve.png and
// confusion_matrix.png. VOC or COCO metrics are recognised from the
// evaluation lines. Every write is atomic.
void plot_run(const std::string& run_dir);

// pr_curve.png and confusion_matrix.png into `dir` (created if missing);
// `caption` (e.g. "step 3200") is added to the titles when not empty.
void write_eval_plots(const EvalDetails& details, const std::string& dir, const std::string& caption);

}  // namespace train

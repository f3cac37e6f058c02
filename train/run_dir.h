// The run directory's files: config.yml, metrics.jsonl (one JSON object per
// line), checkpoints/ (step_NNNNNN.ckpt rotated, last.ckpt, best.ckpt),
// eval/step_NNNNNN.json (what each evaluation's pictures need) and plots/. Every write is atomic or append-only, so a crash never leaves a
// torn checkpoint or a half line that later lines build on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace train {

class RunDir {
 public:
  // Creates the folders and checks they are writable (throws core::IoError
  // naming the path otherwise), before any training time is spent.
  explicit RunDir(std::string root);

  // Whether `dir` already holds a run: metrics.jsonl, config.yml or a checkpoint.
  static bool holds_run(const std::string& dir);
  // Removes what a run writes (metrics.jsonl, config.yml, checkpoints/,
  // eval/, plots/) and nothing else, so `yolo train --overwrite` starts afresh.
  static void clear_run(const std::string& dir);

  const std::string& root() const { return root_; }
  std::string checkpoint_path(std::int64_t step) const;
  std::string last_checkpoint() const;
  std::string best_checkpoint() const;
  std::string plot_path(const std::string& name) const;
  std::string eval_details_path(std::int64_t step) const;
  // The eval/step_NNNNNN.json of the highest step, or "" when none exists.
  std::string latest_eval_details() const;
  void write_eval_details(std::int64_t step, const nlohmann::json& details) const;

  void write_config(const std::string& yaml) const;
  // Appends one line and flushes it to disk.
  void append_metrics(const nlohmann::json& line) const;
  // On resume: drops lines logged after `step` (they belong to steps that
  // the checkpoint does not contain and will be run again), and the
  // evaluation details of those steps.
  void truncate_metrics_after(std::int64_t step) const;
  std::vector<nlohmann::json> read_metrics() const;

  // After step_NNNNNN.ckpt was written: points last.ckpt (and best.ckpt when
  // `best`) at it with an atomic rename of a hard link, then deletes step
  // files beyond the newest `keep_last`.
  void publish_checkpoint(std::int64_t step, bool best, int keep_last) const;
  // After an evaluation found step_NNNNNN.ckpt (already published as
  // last.ckpt) the best so far: points best.ckpt at it the same way.
  void publish_best(std::int64_t step) const;

 private:
  std::string root_;
};

}  // namespace train

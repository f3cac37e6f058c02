// yolo_cpu::train: what `yolo train --config C --run-dir D -o ...` does
// (tools/yolo/train_command.cpp), minus its command-line conveniences (a
// default run directory, the fault-injection environment variables), with
// the result handed back as a TrainSummary.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "core/error.h"
#include "train/config_loader.h"
#include "train/distributed.h"
#include "train/run_dir.h"
#include "train/trainer.h"
#include "yolo_cpu/api_errors.h"
#include "yolo_cpu/yolo_cpu.h"

namespace yolo_cpu {

namespace {

// A run directory that holds another run is refused unless the caller says
// to clear it, as `yolo train` refuses it without --overwrite.
void claim_run_dir(const std::string& run_dir, bool overwrite) {
  const bool taken = train::RunDir::holds_run(run_dir);
  if (taken && !overwrite) {
    throw core::ConfigError(fmt::format("train: {} already holds a run (metrics.jsonl, config.yml or checkpoints); "
                                        "continue it with TrainSettings::resume, start it afresh with "
                                        "TrainSettings::overwrite, or name another run directory",
                                        run_dir));
  }
  train::Communicator& comm = train::communicator();
  comm.barrier();
  if (taken && comm.rank() == 0) train::RunDir::clear_run(run_dir);
}

// The evaluation's numbers by name; nested objects (per-class AP) under
// dotted names ("AP_per_class.circle"). Strings, nulls and lists are left
// to last_eval_json.
void collect_numbers(const nlohmann::json& value, const std::string& prefix, std::map<std::string, double>& out) {
  if (value.is_number()) {
    out[prefix] = value.get<double>();
    return;
  }
  if (!value.is_object()) return;
  for (auto it = value.begin(); it != value.end(); ++it) {
    collect_numbers(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
  }
}

TrainSummary summary_of(const train::TrainResult& r, const std::string& run_dir) {
  TrainSummary s;
  s.steps = r.steps;
  s.last_loss = r.last_loss;
  s.last_eval_json = r.last_eval.dump();
  if (r.last_eval.is_object()) collect_numbers(r.last_eval, "", s.last_eval);
  s.interrupted = r.interrupted;
  s.stopped_early = r.stopped_early;
  s.checkpoint = (std::filesystem::path(run_dir) / "checkpoints" / "last.ckpt").string();
  return s;
}

}  // namespace

TrainSummary train(const std::string& config_path, const std::string& run_dir, const std::vector<std::string>& overrides,
                   const TrainSettings& settings) {
  return translate_errors([&] {
    if (config_path.empty()) throw core::ConfigError("train: the config path is empty");
    if (run_dir.empty()) throw core::ConfigError("train: the run directory is empty");
    if (settings.resume && settings.overwrite) {
      throw core::ConfigError("train: overwrite starts a run afresh; it cannot go with resume");
    }
    const train::TrainConfig config = train::load_config(config_path, overrides);
    if (!settings.resume) claim_run_dir(run_dir, settings.overwrite);

    train::TrainOptions options;
    options.run_dir = run_dir;
    options.resume = settings.resume;
    options.config_yaml = train::dump_config(config);
    options.progress_bar = !settings.quiet;
    std::ostream quiet(nullptr);  // no buffer: drops everything
    const train::TrainResult r = train::run_training(config, options, settings.quiet ? quiet : std::cout);
    return summary_of(r, run_dir);
  });
}

}  // namespace yolo_cpu

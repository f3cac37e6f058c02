#include "tools/yolo/train_command.h"

#include <fmt/format.h>

#include <filesystem>

#include "core/error.h"
#include "train/config_loader.h"
#include "train/eval/evaluate_model.h"
#include "train/plot.h"
#include "train/trainer.h"

namespace yolo {

namespace fs = std::filesystem;

int run_train_command(const TrainCommandArgs& args, std::ostream& out) {
  std::string config_path = args.config;
  std::string run_dir = args.run_dir;
  if (!args.resume.empty()) {
    if (!run_dir.empty() && run_dir != args.resume) {
      throw core::ConfigError("train: give either --resume DIR or --run-dir DIR, not two different folders");
    }
    run_dir = args.resume;
    // The run's own merged config, unless another one is named explicitly.
    if (config_path.empty()) config_path = (fs::path(run_dir) / "config.yml").string();
  }
  if (config_path.empty()) throw core::ConfigError("train: --config FILE.yml is required");
  const train::TrainConfig config = train::load_config(config_path, args.overrides);
  if (run_dir.empty()) run_dir = (fs::path("runs") / fs::path(config_path).stem()).string();

  train::TrainOptions options;
  options.run_dir = run_dir;
  options.resume = !args.resume.empty();
  options.config_yaml = train::dump_config(config);
  options.evaluate = [](const models::Model& model, const data::Dataset& ds, const train::TrainConfig& c) {
    train::ModelEvalOptions eval = train::model_eval_options(c.eval);
    eval.input_size = c.model.input_size;
    return nlohmann::json::parse(train::evaluate_model(model, ds, eval).metrics_json);
  };
  const train::TrainResult r = train::run_training(config, options, out);
  out << fmt::format("run directory: {} (metrics.jsonl, plots/, checkpoints/last.ckpt{})\n", run_dir,
                     r.last_eval.is_object() ? ", checkpoints/best.ckpt" : "");
  return r.interrupted ? 130 : 0;
}

void run_plot_command(const std::string& run_dir, std::ostream& out) {
  if (!fs::exists(fs::path(run_dir) / "metrics.jsonl")) {
    throw core::IoError(fmt::format("plot: {} has no metrics.jsonl (is it a run directory?)", run_dir));
  }
  std::string map_key = "mAP_area";
  const fs::path cfg = fs::path(run_dir) / "config.yml";
  if (fs::exists(cfg) && train::load_config(cfg.string()).eval.metric == "coco") map_key = "AP";
  train::plot_run(run_dir, map_key);
  out << fmt::format("plots written to {}\n", (fs::path(run_dir) / "plots").string());
}

}  // namespace yolo

#include "train/training_evaluation.h"

#include <fmt/format.h>

#include <cstring>
#include <memory>
#include <ostream>
#include <type_traits>

#include "core/progress.h"

namespace train {

std::string best_metric_key(EvalMetric metric) { return metric == EvalMetric::coco ? "AP" : "mAP_11point"; }

std::vector<std::string> headline_metric_keys(EvalMetric metric) {
  if (metric == EvalMetric::coco) return {"AP", "AP50", "AP75"};
  return {"mAP_11point", "mAP_area"};
}

namespace {

// A number of metrics.json; undefined ones (null: no ground truth) as 0.
double metric_or_zero(const nlohmann::json& metrics, const std::string& key) {
  const auto it = metrics.find(key);
  return it != metrics.end() && it->is_number() ? it->get<double>() : 0.0;
}

}  // namespace

TrainingEval training_eval_from(const ModelEvalResult& result, EvalMetric metric) {
  TrainingEval e;
  e.metrics = nlohmann::json(result.metrics);
  e.details = result.details;
  e.score = metric_or_zero(e.metrics, best_metric_key(metric));
  for (const std::string& key : headline_metric_keys(metric)) e.headline.emplace_back(key, metric_or_zero(e.metrics, key));
  return e;
}

std::vector<Detection> all_gather_detections(Communicator& comm, const std::vector<Detection>& mine) {
  static_assert(std::is_trivially_copyable_v<Detection>);
  std::string bytes(mine.size() * sizeof(Detection), '\0');
  if (!mine.empty()) std::memcpy(bytes.data(), mine.data(), bytes.size());
  std::vector<Detection> all;
  for (const std::string& part : comm.all_gather(bytes)) {
    const std::size_t n = part.size() / sizeof(Detection);
    const std::size_t at = all.size();
    all.resize(at + n);
    if (n > 0) std::memcpy(all.data() + at, part.data(), n * sizeof(Detection));
  }
  return all;
}

TrainingEval evaluate_during_training(const models::Model& model, const data::Dataset& ds, const TrainConfig& config,
                                      Communicator& comm, std::ostream& out) {
  ModelEvalOptions options = model_eval_options(config.eval);
  options.input_size = config.model.input_size;
  // Rank 0's share stands for the whole in the progress report; mpirun
  // hands ranks a pseudo-terminal even when its own output is a file.
  if (comm.rank() == 0) {
    auto progress = std::make_shared<core::Progress>(out, "eval", "images", ds.images.size(),
                                                     core::Progress::is_terminal(1) && !comm.distributed());
    options.progress = [progress](std::size_t done, std::size_t) { progress->update(done); };
  }
  options.shard = comm.rank();
  options.shards = comm.size();
  if (comm.distributed()) options.gather = [&comm](const auto& mine) { return all_gather_detections(comm, mine); };
  const ModelEvalResult result = evaluate_model(model, ds, options);
  if (comm.rank() == 0) out << fmt::format("eval time: {}\n", describe(result.timing));
  return training_eval_from(result, options.metric);
}

}  // namespace train

#include "tools/yolo/config_model.h"

#include <fmt/format.h>

#include "models/checkpoint.h"
#include "core/atomic_file.h"
#include "train/config_loader.h"
#include "train/trainer.h"

namespace yolo {

models::Model model_from_config(const std::string& config_path, const std::string& weights, std::ostream& log) {
  const train::TrainConfig config = train::load_config(config_path);
  std::vector<std::string> class_names;
  if (!config.model.cfg.empty()) {
    // The cfg fixes the class count; no need to read the data set.
  } else if (!weights.empty() && models::is_checkpoint(core::read_file(weights))) {
    class_names = models::load_model_checkpoint(weights).model.meta.class_names;
    log << fmt::format("classes: {} (from {})\n", class_names.size(), weights);
  } else {
    class_names = train::load_train_dataset(config, config.data.train, train::DataRole::train, log).classes;
    log << fmt::format("classes: {} (from {})\n", class_names.size(), config.data.train);
  }
  models::Model model = train::build_model(config, class_names);
  model.network->set_training(false);
  return model;
}

}  // namespace yolo

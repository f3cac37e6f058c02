#include "train/config_augment.h"

#include <algorithm>

namespace train {

data::AugmentConfig augment_config_for(const TrainConfig& config) {
  data::AugmentConfig a = config.data.augment;
  a.resize.letterbox = config.input.resize == "letterbox";
  a.normalize.mean_std = config.input.mean_std;
  std::copy(config.input.mean.begin(), config.input.mean.end(), a.normalize.mean);
  std::copy(config.input.std.begin(), config.input.std.end(), a.normalize.std);
  a.multiscale.size = config.model.input_size;
  return a;
}

}  // namespace train

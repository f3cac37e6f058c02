// The augmentation settings a training config stands for. data.augment holds
// most of them as keys; the rest follow other keys so that one key drives
// training, evaluation and detection alike:
//   input.resize == "letterbox"  -> resize.letterbox
//   input.mean_std, mean, std    -> normalize
//   model.input_size             -> multiscale.size (the size when multi-scale
//                                   is off, and the evaluation size)
// The one place that maps them; load_config() stores the result in
// config.data.augment (sync_derived_fields), and the loaders of training and
// evaluation take it from here.
#pragma once

#include "data/pipeline.h"
#include "train/config.h"

namespace train {

// config.data.augment with the fields above set from input.* and
// model.input_size. Pure: reads only `config`.
data::AugmentConfig augment_config_for(const TrainConfig& config);

}  // namespace train

// Learning-rate schedules as pure functions of the optimizer step, so a
// resumed run continues exactly where it stopped.
#pragma once

#include <cstdint>

#include "train/config.h"

namespace train {

// Factor applied to optimizer.lr before update number `step` (1-based: the
// first update is step 1, as Darknet counts). `steps_per_epoch` converts the
// piecewise milestones (epochs) to steps; `total_steps` is the run's length
// (cosine). Throws core::ConfigError for an unknown schedule type.
double lr_factor(const ScheduleConfig& s, std::int64_t step, std::int64_t steps_per_epoch, std::int64_t total_steps);

}  // namespace train

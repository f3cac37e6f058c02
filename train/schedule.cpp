#include "train/schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace train {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Linear warm-up from `start` to 1 over the first `warmup` steps.
double warmup_factor(const ScheduleConfig& s, std::int64_t step) {
  if (s.warmup_steps <= 0 || step >= s.warmup_steps) return 1.0;
  const double t = static_cast<double>(step) / static_cast<double>(s.warmup_steps);
  return s.warmup_start + (1.0 - s.warmup_start) * t;
}

}  // namespace

double lr_factor(const ScheduleConfig& s, std::int64_t step, std::int64_t steps_per_epoch, std::int64_t total_steps) {
  if (s.type == "piecewise") {
    double f = warmup_factor(s, step);
    for (double epoch : s.milestones) {
      if (static_cast<double>(step) > epoch * static_cast<double>(steps_per_epoch)) f *= s.gamma;
    }
    return f;
  }
  if (s.type == "cosine") {
    const std::int64_t decay_steps = std::max<std::int64_t>(1, total_steps - s.warmup_steps);
    const double progress =
        std::clamp(static_cast<double>(step - s.warmup_steps) / static_cast<double>(decay_steps), 0.0, 1.0);
    const double cosine = s.min_factor + (1.0 - s.min_factor) * 0.5 * (1.0 + std::cos(kPi * progress));
    return step < s.warmup_steps ? warmup_factor(s, step) : cosine;
  }
  if (s.type == "burn_in") {
    // Darknet: (step / burn_in)^power during burn-in, then each scale applies
    // once its step is reached (steps ascending).
    if (step < s.burn_in) return std::pow(static_cast<double>(step) / static_cast<double>(s.burn_in), s.power);
    double f = 1.0;
    for (std::size_t i = 0; i < s.steps.size() && i < s.scales.size(); ++i) {
      if (s.steps[i] > step) break;
      f *= s.scales[i];
    }
    return f;
  }
  throw core::ConfigError(fmt::format("schedule.type: unknown schedule '{}' (expected piecewise, cosine or burn_in)",
                                      s.type));
}

}  // namespace train

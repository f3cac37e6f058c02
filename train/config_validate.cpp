#include "train/config_validate.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "core/error.h"
#include "data/dataset_spec.h"
#include "train/config_codecs.h"
#include "train/config_loader.h"

namespace train {
namespace config_internal {
namespace {

// The kinds of check; each that fails adds a (key, message) problem.
class Checker {
 public:
  Problems problems;

  void require(bool ok, const char* key, const std::string& message) {
    if (!ok) problems.emplace_back(key, message);
  }
  template <class T>
  void at_least(const char* key, T v, T lo) {
    require(v >= lo, key, fmt::format("must be >= {}, got {}", show(lo), show(v)));
  }
  template <class T>
  void positive(const char* key, T v) {
    require(v > 0, key, fmt::format("must be > 0, got {}", show(v)));
  }
  template <class T>
  void in_range(const char* key, T v, T lo, T hi) {
    require(lo <= v && v <= hi, key, fmt::format("must be in [{}, {}], got {}", show(lo), show(hi), show(v)));
  }
  void unit_open(const char* key, double v) {  // [0, 1)
    require(0 <= v && v < 1, key, fmt::format("must be in [0, 1), got {}", show(v)));
  }
  void one_of(const char* key, const std::string& v, std::initializer_list<const char*> options) {
    std::string list;
    bool ok = false;
    for (const char* o : options) {
      list += (list.empty() ? "" : " | ") + std::string(o);
      ok = ok || v == o;
    }
    require(ok, key, fmt::format("must be {}, got '{}'", list, v));
  }
  void multiple_of_32(const char* key, int v) {
    require(v >= 32 && v % 32 == 0, key, fmt::format("must be a positive multiple of 32, got {}", v));
  }
  template <class T>
  void increasing(const char* key, const std::vector<T>& v) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      require(v[i] >= 0, key, fmt::format("entries must be >= 0, got {}", show(v[i])));
      if (i > 0) require(v[i] > v[i - 1], key, fmt::format("entries must increase, got {} after {}", show(v[i]), show(v[i - 1])));
    }
  }
  void range_pair(const char* low_key, double low, double high, const char* what) {
    require(0 <= low && low <= high, low_key, fmt::format("{} range must satisfy 0 <= low <= high, got [{}, {}]", what, show(low), show(high)));
  }
  void colour(const char* key, const float* v) {
    for (int i = 0; i < 3; ++i) require(0 <= v[i] && v[i] <= 255, key, fmt::format("channels must be in [0, 255], got {}", show(v[i])));
  }
  void dataset(const char* key, const std::string& spec) {
    if (spec.empty()) return;  // required keys are checked while loading
    try {
      data::parse_dataset_spec(spec);
    } catch (const core::Error& e) {
      problems.emplace_back(key, e.what());
    }
  }

 private:
  template <class T>
  static std::string show(T v) {
    if constexpr (std::is_floating_point_v<T>) return format_number(v);
    else return fmt::format("{}", v);
  }
};

// model.*, precision and input.*
void check_model_and_input(Checker& k, const TrainConfig& c) {
  const ModelConfig& m = c.model;
  k.require(m.width > 0 && std::isfinite(m.width), "model.width", fmt::format("must be > 0, got {}", format_number(m.width)));
  k.multiple_of_32("model.input_size", m.input_size);
  k.require(!m.anchors.empty() && m.anchors.size() % 2 == 0, "model.anchors",
            fmt::format("must hold [w, h] pairs, got {} numbers", m.anchors.size()));
  for (int a : m.anchors) k.require(a > 0, "model.anchors", fmt::format("sizes must be > 0, got {}", a));
  const int anchor_count = static_cast<int>(m.anchors.size() / 2);
  k.require(!m.masks.empty(), "model.masks", "must list the anchors of each head");
  if (m.cfg.empty())
    k.require(m.masks.size() == 3, "model.masks",
              fmt::format("the built-in YOLOv3 has 3 heads (strides 32, 16, 8), got {} masks", m.masks.size()));
  for (std::size_t h = 0; h < m.masks.size(); ++h) {
    k.require(!m.masks[h].empty(), "model.masks", fmt::format("mask {} is empty", h));
    for (int i : m.masks[h])
      k.require(0 <= i && i < anchor_count, "model.masks",
                fmt::format("index {} of mask {} does not name one of the {} anchors (0..{})", i, h, anchor_count,
                            anchor_count - 1));
  }
  k.in_range("model.ignore_thresh", m.ignore_thresh, 0.0, 1.0);
  k.at_least("model.scale_x_y", m.scale_x_y, 1.0);
  k.require(std::isfinite(m.objectness_bias), "model.objectness_bias", "must be finite");
  k.one_of("model.bn_style", m.bn_style, {"standard", "darknet"});
  k.require(0 < m.bn_momentum && m.bn_momentum <= 1, "model.bn_momentum",
            fmt::format("must be in (0, 1], got {}", format_number(m.bn_momentum)));

  k.one_of("precision", c.precision, {"fp32", "bf16"});
  k.one_of("input.resize", c.input.resize, {"letterbox", "stretch"});
  for (float v : c.input.mean) k.in_range("input.mean", v, 0.0f, 1.0f);
  for (float v : c.input.std) k.positive("input.std", v);
}

// data.*: data sets, the loader and augmentation
void check_data(Checker& k, const TrainConfig& c) {
  const DataConfig& d = c.data;
  k.dataset("data.train", d.train);
  k.dataset("data.val", d.val);
  k.require(!d.shapes.generate || !d.cache_dir.empty(), "data.cache_dir", "must name a folder when data.shapes.generate is on");
  k.at_least("data.shapes.images", d.shapes.images, 10);
  k.in_range("data.shapes.classes", d.shapes.classes, 1, 6);
  k.at_least("data.shapes.size", d.shapes.size, 64);
  k.at_least("data.workers", d.workers, 0);
  k.at_least("data.max_boxes", d.max_boxes, 1);
  k.at_least("data.mixup_epochs", d.mixup_epochs, 0);
  k.at_least("data.mosaic_epochs", d.mosaic_epochs, 0);
  k.require(d.augment.mosaic.prob >= 0 && d.augment.mosaic.prob <= 1, "data.augment.mosaic.prob",
            fmt::format("must be in [0, 1], got {}", format_number(d.augment.mosaic.prob)));
  const data::AugmentConfig& a = d.augment;
  k.positive("data.augment.mixup.alpha", a.mixup.alpha);
  k.positive("data.augment.mixup.beta", a.mixup.beta);
  k.in_range("data.augment.distort.prob", a.distort.prob, 0.0f, 1.0f);
  k.at_least("data.augment.distort.brightness", a.distort.brightness, 0.0f);
  k.range_pair("data.augment.distort.contrast_low", a.distort.contrast_low, a.distort.contrast_high, "contrast");
  k.range_pair("data.augment.distort.saturation_low", a.distort.saturation_low, a.distort.saturation_high, "saturation");
  k.in_range("data.augment.distort.hue", a.distort.hue, 0.0f, 180.0f);
  k.in_range("data.augment.expand.prob", a.expand.prob, 0.0f, 1.0f);
  k.at_least("data.augment.expand.max_ratio", a.expand.max_ratio, 1.0f);
  k.colour("data.augment.expand.fill", a.expand.fill);
  k.require(!a.crop.min_ious.empty(), "data.augment.crop.min_ious", "must not be empty");
  for (float v : a.crop.min_ious) k.in_range("data.augment.crop.min_ious", v, 0.0f, 1.0f);
  k.require(0 < a.crop.min_scale && a.crop.min_scale <= a.crop.max_scale && a.crop.max_scale <= 1,
            "data.augment.crop.min_scale",
            fmt::format("crop scales must satisfy 0 < min_scale <= max_scale <= 1, got [{}, {}]",
                        format_number(a.crop.min_scale), format_number(a.crop.max_scale)));
  k.require(0 < a.crop.min_aspect && a.crop.min_aspect <= a.crop.max_aspect, "data.augment.crop.min_aspect",
            fmt::format("crop aspects must satisfy 0 < min_aspect <= max_aspect, got [{}, {}]",
                        format_number(a.crop.min_aspect), format_number(a.crop.max_aspect)));
  k.at_least("data.augment.crop.attempts", a.crop.attempts, 1);
  k.in_range("data.augment.flip.prob", a.flip.prob, 0.0f, 1.0f);
  k.colour("data.augment.resize.fill", a.resize.fill);
  k.multiple_of_32("data.augment.multiscale.min_size", a.multiscale.min_size);
  k.multiple_of_32("data.augment.multiscale.max_size", a.multiscale.max_size);
  k.multiple_of_32("data.augment.multiscale.step", a.multiscale.step);
  k.require(a.multiscale.min_size <= a.multiscale.max_size, "data.augment.multiscale.max_size",
            fmt::format("must be >= data.augment.multiscale.min_size ({}), got {}", a.multiscale.min_size,
                        a.multiscale.max_size));
  k.at_least("data.augment.min_box_size", a.min_box_size, 0.0f);
}

// train.*, optimizer.* and schedule.*
void check_optimization(Checker& k, const TrainConfig& c) {
  const TrainSection& t = c.train;
  k.at_least("train.max_steps", t.max_steps, std::int64_t{0});
  k.at_least("train.epochs", t.epochs, 1);
  k.at_least("train.batch_size", t.batch_size, 1);
  k.at_least("train.subdivisions", t.subdivisions, 1);
  k.at_least("train.threads", t.threads, 0);
  k.at_least("train.clip_grad_norm", t.clip_grad_norm, 0.0);
  k.require(0 < t.ema_decay && t.ema_decay < 1, "train.ema_decay",
            fmt::format("must be in (0, 1), got {}", format_number(t.ema_decay)));
  for (const std::string& f : t.freeze) k.require(!f.empty(), "train.freeze", "prefixes must not be empty");
  k.at_least("train.freeze_epochs", t.freeze_epochs, 0);
  k.at_least("train.max_bad_steps", t.max_bad_steps, 1);
  k.at_least("train.patience", t.patience, 0);
  k.require(t.patience == 0 || (c.eval.interval > 0 && !c.data.val.empty()), "train.patience",
            "early stopping needs periodic evaluations: set eval.interval > 0 and data.val");

  const OptimizerConfig& o = c.optimizer;
  k.one_of("optimizer.type", o.type, {"sgd", "adamw"});
  k.require(o.lr > 0 && std::isfinite(o.lr), "optimizer.lr", fmt::format("must be > 0, got {}", format_number(o.lr)));
  k.unit_open("optimizer.momentum", o.momentum);
  k.at_least("optimizer.weight_decay", o.weight_decay, 0.0);
  k.unit_open("optimizer.beta1", o.beta1);
  k.unit_open("optimizer.beta2", o.beta2);
  k.positive("optimizer.eps", o.eps);

  const ScheduleConfig& s = c.schedule;
  k.one_of("schedule.type", s.type, {"piecewise", "cosine", "burn_in"});
  k.at_least("schedule.warmup_steps", s.warmup_steps, std::int64_t{0});
  k.in_range("schedule.warmup_start", s.warmup_start, 0.0, 1.0);
  k.increasing("schedule.milestones", s.milestones);
  k.positive("schedule.gamma", s.gamma);
  k.in_range("schedule.min_factor", s.min_factor, 0.0, 1.0);
  k.at_least("schedule.burn_in", s.burn_in, std::int64_t{0});
  k.positive("schedule.power", s.power);
  k.increasing("schedule.steps", s.steps);
  k.require(s.scales.size() == s.steps.size(), "schedule.scales",
            fmt::format("needs one entry per schedule.steps entry ({}), got {}", s.steps.size(), s.scales.size()));
  for (double v : s.scales) k.positive("schedule.scales", v);
}

// eval.*, log.*, checkpoint.* and distributed.*
void check_evaluation_and_output(Checker& k, const TrainConfig& c) {
  const EvalConfig& e = c.eval;
  k.at_least("eval.interval", e.interval, 0);
  k.in_range("eval.score_thresh", e.score_thresh, 0.0, 1.0);
  k.require(0 < e.nms_iou && e.nms_iou <= 1, "eval.nms_iou", fmt::format("must be in (0, 1], got {}", format_number(e.nms_iou)));
  k.at_least("eval.max_dets", e.max_dets, 1);
  k.one_of("eval.nms", e.nms, {"bounded", "darknet"});
  k.at_least("eval.pre_nms_top_k", e.pre_nms_top_k, 0);
  k.one_of("eval.metric", e.metric, {"voc", "coco"});

  k.at_least("log.interval", c.log.interval, 1);
  k.at_least("log.plot_interval", c.log.plot_interval, 1);
  k.at_least("checkpoint.interval", c.checkpoint.interval, 1);
  k.at_least("checkpoint.keep_last", c.checkpoint.keep_last, 1);

  const DistributedConfig& dist = c.distributed;
  k.one_of("distributed.batch", dist.batch, {"per_rank", "global"});
  k.one_of("distributed.lr_scaling", dist.lr_scaling, {"none", "linear", "sqrt"});
  k.positive("distributed.bucket_mb", dist.bucket_mb);
}

}  // namespace

Problems validate(const TrainConfig& config) {
  Checker k;
  check_model_and_input(k, config);
  check_data(k, config);
  check_optimization(k, config);
  check_evaluation_and_output(k, config);
  return k.problems;
}

}  // namespace config_internal

std::vector<std::string> validate_config(const TrainConfig& config) {
  std::vector<std::string> out;
  for (const auto& [key, message] : config_internal::validate(config)) out.push_back(key + ": " + message);
  return out;
}

}  // namespace train

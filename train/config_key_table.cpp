#include "train/config_key_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <map>
#include <type_traits>
#include <utility>

#include "core/error.h"
#include "train/config_codecs.h"
#include "train/config_loader.h"

namespace train {
namespace config_internal {
namespace {

template <class C, class Access>
KeyDescriptor make_key(const char* name, Access access, const char* description, bool required) {
  KeyDescriptor k;
  k.name = name;
  k.type = C::type();
  k.expected = C::expected();
  k.description = description;
  k.required = required;
  k.decode = [access](TrainConfig& c, const YAML::Node& n) { C::decode(n, access(c)); };
  k.encode = [access](YAML::Emitter& e, const TrainConfig& c) { C::encode(e, access(c)); };
  k.empty = [access](const TrainConfig& c) {
    const auto& v = access(c);
    if constexpr (requires { v.empty(); }) return v.empty();
    else return false;
  };
  return k;
}

template <class Access>
using FieldType = std::remove_cvref_t<decltype(std::declval<Access>()(std::declval<TrainConfig&>()))>;

// The key's dotted name is the member path in TrainConfig, so the two cannot
// disagree.
#define YOLO_ACCESS(path) [](auto& c) -> auto& { return c.path; }
#define KEY(path, description) \
  make_key<Codec<FieldType<decltype(YOLO_ACCESS(path))>>>(#path, YOLO_ACCESS(path), description, false)
#define REQUIRED_KEY(path, description) \
  make_key<Codec<FieldType<decltype(YOLO_ACCESS(path))>>>(#path, YOLO_ACCESS(path), description, true)
#define KEY_AS(codec, path, description) make_key<codec>(#path, YOLO_ACCESS(path), description, false)

// model.* and input.*
std::vector<KeyDescriptor> model_and_input_keys() {
  return {
      KEY(model.cfg, "Darknet .cfg file of the model; empty = the built-in YOLOv3 (Darknet-53 backbone)"),
      KEY(model.width, "Channel multiplier of the built-in model (1 = YOLOv3; 0.125 = 1/8 of every layer's channels)"),
      KEY(model.input_size, "Input size when multi-scale is off, and the evaluation and detection size; a multiple of 32"),
      KEY_AS(AnchorsCodec, model.anchors, "Anchor boxes as [w, h] pairs in input pixels (`yolo anchors` computes them)"),
      KEY(model.masks, "Anchor indices of each output head, strides 32, 16, 8 in that order"),
      KEY(model.ignore_thresh, "Predictions whose best IoU with a ground-truth box exceeds this get no objectness loss"),
      KEY(model.use_label_smooth, "Label smoothing of the class targets (off in PaddleDetection's YOLOv3 recipe)"),
      KEY(model.scale_x_y, "Scale of the sigmoid x/y offsets, centred (1 = YOLOv3)"),
      KEY(model.objectness_bias, "Initial bias of the output convs' objectness channels (e.g. -4; 0 = plain init)"),
      KEY(model.bn_style, "Batch-norm formula: standard | darknet (Darknet's inference epsilon placement)"),
      KEY(model.bn_momentum, "Batch-norm running-statistics momentum, PyTorch meaning: new = (1 - m) old + m batch"),

      KEY(input.resize, "letterbox | stretch: the last training resize, evaluation and detection"),
      KEY(input.mean_std, "After scaling pixels to [0,1], subtract input.mean and divide by input.std (off for Darknet weights)"),
      KEY(input.mean, "Per-channel (RGB) mean on the [0,1] scale, used when input.mean_std is on"),
      KEY(input.std, "Per-channel (RGB) standard deviation on the [0,1] scale, used when input.mean_std is on"),
  };
}

// data.*: data sets, the loader and augmentation
std::vector<KeyDescriptor> data_keys() {
  return {
      REQUIRED_KEY(data.train, "Training data set: voc:DIR[:SPLIT] | coco:ANNOTATIONS.json[:IMAGE_DIR] | darknet:LIST[:NAMES]"),
      REQUIRED_KEY(data.val, "Evaluation data set, same forms as data.train"),
      KEY(data.cache_dir, "Folder of generated data sets (data.shapes), relative to the working directory"),
      KEY(data.shapes.generate, "Generate the synthetic shapes data set into data.cache_dir when it is missing"),
      KEY(data.shapes.images, "Images of the generated set in total, split 80/10/10 into train/val/test"),
      KEY(data.shapes.classes, "Shape classes of the generated set (1..6)"),
      KEY(data.shapes.size, "Longer side of the generated images, in pixels (>= 64)"),
      KEY(data.shapes.seed, "Seed of the generated set (same seed, same files)"),
      KEY(data.workers, "Loader worker threads (decode and augment)"),
      KEY(data.max_boxes, "Ground-truth boxes kept per training image"),
      KEY(data.mixup_epochs, "Mixup only during the first N epochs (0 = every epoch; PaddleDetection: 250 of 270)"),
      KEY(data.mosaic_epochs, "Mosaic only during the first N epochs (0 = every epoch)"),
      KEY(data.augment.mosaic.prob, "Share of training samples made a mosaic of four images, before every other step (0 = off)"),
      KEY(data.augment.mixup.enabled, "Blend pairs of training images (mixup), boxes weighted by the blend"),
      KEY(data.augment.mixup.alpha, "Mixup weight ~ Beta(alpha, beta): alpha"),
      KEY(data.augment.mixup.beta, "Mixup weight ~ Beta(alpha, beta): beta"),
      KEY(data.augment.distort.enabled, "Photometric distortion: brightness, contrast, saturation, hue"),
      KEY(data.augment.distort.prob, "Probability of each distortion component"),
      KEY(data.augment.distort.brightness, "Brightness delta drawn from [-x, x] on the 0..255 scale"),
      KEY(data.augment.distort.contrast_low, "Contrast factor range, low end"),
      KEY(data.augment.distort.contrast_high, "Contrast factor range, high end"),
      KEY(data.augment.distort.saturation_low, "Saturation factor range, low end"),
      KEY(data.augment.distort.saturation_high, "Saturation factor range, high end"),
      KEY(data.augment.distort.hue, "Hue rotation drawn from [-x, x] degrees"),
      KEY(data.augment.expand.enabled, "Random expand: zoom out onto a canvas filled with data.augment.expand.fill"),
      KEY(data.augment.expand.prob, "Probability of expanding an image"),
      KEY(data.augment.expand.max_ratio, "Canvas side / image side drawn from [1, x]"),
      KEY(data.augment.expand.fill, "Canvas colour (RGB, 0..255)"),
      KEY(data.augment.crop.enabled, "SSD's IoU-constrained random crop"),
      KEY(data.augment.crop.min_ious, "Minimum IoU with some box for a crop to be accepted; one is drawn per trial"),
      KEY(data.augment.crop.min_scale, "Crop side / image side, low end"),
      KEY(data.augment.crop.max_scale, "Crop side / image side, high end"),
      KEY(data.augment.crop.min_aspect, "Crop width / height, low end"),
      KEY(data.augment.crop.max_aspect, "Crop width / height, high end"),
      KEY(data.augment.crop.attempts, "Crop trials before the image is kept uncropped"),
      KEY(data.augment.flip.enabled, "Random horizontal flip"),
      KEY(data.augment.flip.prob, "Probability of flipping an image"),
      KEY(data.augment.resize.random_interp, "Draw the resize interpolation per image (else bilinear)"),
      KEY(data.augment.resize.fill, "Letterbox padding colour (RGB, 0..255)"),
      KEY(data.augment.multiscale.enabled, "One random input size per global batch (else model.input_size)"),
      KEY(data.augment.multiscale.min_size, "Smallest multi-scale size (multiple of 32)"),
      KEY(data.augment.multiscale.max_size, "Largest multi-scale size (multiple of 32)"),
      KEY(data.augment.multiscale.step, "Multi-scale size step (multiple of 32)"),
      KEY(data.augment.min_box_size, "Boxes smaller than this (pixels of the final image, either side) are dropped"),
      KEY(data.augment.keep_difficult, "Keep VOC 'difficult' boxes as training targets"),
  };
}

// train.*, optimizer.* and schedule.*
std::vector<KeyDescriptor> optimization_keys() {
  return {
      KEY(train.max_steps, "Stop after this many optimizer updates; overrides train.epochs when > 0"),
      KEY(train.epochs, "Passes over the training set"),
      KEY(train.batch_size, "Images per forward pass"),
      KEY(train.subdivisions, "Forward passes accumulated per optimizer update (global batch = batch_size x "
                              "subdivisions); under bf16 the convolutions' weights are converted once per update "
                              "and held until it"),
      KEY(train.seed, "Seed of initialisation, data order and augmentation"),
      KEY(train.threads, "Compute threads (0 = the cores available)"),
      KEY(train.clip_grad_norm, "Clip the global gradient norm to this value (0 = off)"),
      KEY(train.ema, "Keep an exponential moving average of the weights and evaluate with it"),
      KEY(train.ema_decay, "Decay of the moving average"),
      KEY(train.freeze, "Parameter-name prefixes kept fixed (e.g. backbone.)"),
      KEY(train.freeze_epochs, "Epochs for which train.freeze holds (0 = the whole run)"),
      KEY(train.max_bad_steps, "Non-finite losses or gradients in a row before the run stops with a checkpoint"),
      KEY(train.prepare_sizes, "Ready every multi-scale input size before the first step (kernels compiled, buffers "
                               "mapped), so no step stalls at a size it meets first"),
      KEY(train.patience, "Early stopping: evaluations in a row without a new best (eval's best-checkpoint metric) before the run ends as finished (0 = off)"),

      KEY(optimizer.type, "sgd (momentum, L2 weight decay) | adamw (decoupled weight decay)"),
      KEY(optimizer.lr, "Base learning rate, for the global batch"),
      KEY(optimizer.momentum, "SGD momentum"),
      KEY(optimizer.weight_decay, "L2 factor for sgd, decoupled decay for adamw"),
      KEY(optimizer.decay_bias_and_bn, "Apply weight decay to biases and batch-norm parameters too"),
      KEY(optimizer.beta1, "Adam first-moment decay"),
      KEY(optimizer.beta2, "Adam second-moment decay"),
      KEY(optimizer.eps, "Adam denominator epsilon"),

      KEY(schedule.type, "piecewise | cosine | burn_in (Darknet's burn-in with steps/scales)"),
      KEY(schedule.warmup_steps, "Linear warm-up length in optimizer updates (piecewise, cosine)"),
      KEY(schedule.warmup_start, "Learning-rate factor at the first warm-up step"),
      KEY(schedule.milestones, "Epochs at which the learning rate is multiplied by schedule.gamma (piecewise)"),
      KEY(schedule.gamma, "Factor applied at each milestone (piecewise)"),
      KEY(schedule.min_factor, "Floor of the cosine decay, as a factor of optimizer.lr"),
      KEY(schedule.burn_in, "Darknet burn-in length: lr x (step / burn_in)^power (burn_in)"),
      KEY(schedule.power, "Darknet burn-in exponent (burn_in)"),
      KEY(schedule.steps, "Darknet steps: optimizer updates at which the lr is multiplied by schedule.scales (burn_in)"),
      KEY(schedule.scales, "Darknet scales, one per schedule.steps entry (burn_in)"),
  };
}

// eval.*, log.*, checkpoint.*, distributed.* and the top-level keys
std::vector<KeyDescriptor> evaluation_and_output_keys() {
  return {
      KEY(eval.interval, "Epochs between evaluations (0 = only at the end)"),
      KEY(eval.score_thresh, "Detections below this score are dropped before NMS"),
      KEY(eval.nms_iou, "IoU above which NMS suppresses a detection of the same class"),
      KEY(eval.nms, "bounded (at most pre_nms_top_k candidates per class into NMS, docs/nms.md) | darknet (Darknet's do_nms_sort over every box, for comparisons)"),
      KEY(eval.pre_nms_top_k, "Bounded NMS: candidates per class, best scores first, that enter suppression (0 = all)"),
      KEY(eval.max_dets, "Detections kept per image after NMS"),
      KEY(eval.metric, "voc (11-point and area mAP at IoU 0.5) | coco (AP at IoU 0.5:0.95)"),
      KEY(eval.voc_iou_strict, "VOC: a match needs IoU > 0.5 instead of >= 0.5"),

      KEY(log.interval, "Optimizer updates between metrics.jsonl lines"),
      KEY(log.plot_interval, "Optimizer updates between plot refreshes"),

      KEY(checkpoint.interval, "Optimizer updates between checkpoints"),
      KEY(checkpoint.keep_last, "Step checkpoints kept (last.ckpt and best.ckpt are kept besides)"),

      KEY(distributed.batch, "Under mpirun: per_rank (train.batch_size per rank, global batch grows with the ranks) | global (train.batch_size split over the ranks)"),
      KEY(distributed.lr_scaling, "Under mpirun with per_rank batches: none | linear (lr x ranks) | sqrt (lr x sqrt(ranks))"),
      KEY(distributed.sync_bn, "Batch-norm statistics summed over the ranks in forward and backward (else per rank); one process runs the same kernel"),
      KEY(distributed.bucket_mb, "Under mpirun: gradient allreduce bucket size in MiB"),
      KEY(distributed.overlap, "Under mpirun: start each bucket's allreduce while backward still runs"),

      KEY(pretrain_weights, "Initial weights: Darknet .weights (e.g. darknet53.conv.74) or a checkpoint; empty = random"),
      KEY(precision, "fp32 | bf16: convolutions multiply in bfloat16 with float32 sums, weights, batch-norm arithmetic "
                     "and statistics, and loss; batch norm's output is held in bfloat16 for the convolution after "
                     "it, and its input gradient for the convolution before it; shortcuts, routes, upsampling "
                     "and max pooling of such outputs stay bfloat16 (mixed precision; needs a CPU with "
                     "AVX512-BF16). Without AMX, 3x3 layers with at least 128 input channels and 26x26 outputs "
                     "train in float32 on Winograd, which is faster there"),
  };
}

#undef KEY
#undef REQUIRED_KEY
#undef KEY_AS
#undef YOLO_ACCESS

// The table in the order of the reference: model, input, data, train,
// optimizer, schedule, eval, log, checkpoint, distributed, top-level keys.
std::vector<KeyDescriptor> build_table() {
  std::vector<KeyDescriptor> t;
  for (auto part : {model_and_input_keys, data_keys, optimization_keys, evaluation_and_output_keys}) {
    std::vector<KeyDescriptor> keys = part();
    std::move(keys.begin(), keys.end(), std::back_inserter(t));
  }
  return t;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

const std::vector<KeyDescriptor>& table() {
  static const std::vector<KeyDescriptor> t = build_table();
  return t;
}

const KeyDescriptor* find_key(const std::string& name) {
  static const std::map<std::string, const KeyDescriptor*> index = [] {
    std::map<std::string, const KeyDescriptor*> m;
    for (const KeyDescriptor& k : table()) m.emplace(k.name, &k);
    return m;
  }();
  const auto it = index.find(name);
  return it == index.end() ? nullptr : it->second;
}

const std::set<std::string>& sections() {
  static const std::set<std::string> s = [] {
    std::set<std::string> out;
    for (const KeyDescriptor& k : table())
      for (std::size_t dot = k.name.find('.'); dot != std::string::npos; dot = k.name.find('.', dot + 1))
        out.insert(k.name.substr(0, dot));
    return out;
  }();
  return s;
}

std::string suggestion(const std::string& key) {
  std::string best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  auto consider = [&](const std::string& name) {
    const std::size_t d = edit_distance(key, name);
    if (d < best_distance) best_distance = d, best = name;
  };
  for (const KeyDescriptor& k : table()) consider(k.name);
  for (const std::string& s : sections()) consider(s);
  if (best_distance <= std::max<std::size_t>(2, key.size() / 6)) return fmt::format(" (did you mean '{}'?)", best);
  const std::string last = key.substr(key.rfind('.') + 1);
  for (const KeyDescriptor& k : table())
    if (k.name.substr(k.name.rfind('.') + 1) == last) return fmt::format(" (did you mean '{}'?)", k.name);
  return "";
}

std::string section_keys(const std::string& section) {
  std::vector<std::string> names;
  for (const KeyDescriptor& k : table())
    if (k.name.rfind(section + ".", 0) == 0) {
      const std::size_t end = k.name.find('.', section.size() + 1);
      const std::string child = k.name.substr(section.size() + 1, end - section.size() - 1);
      if (std::find(names.begin(), names.end(), child) == names.end()) names.push_back(child);
    }
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < 6; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 6) out += ", ...";
  return out;
}

}  // namespace config_internal

using config_internal::find_key;
using config_internal::KeyDescriptor;
using config_internal::suggestion;
using config_internal::table;

std::string config_value(const TrainConfig& config, const std::string& key) {
  const KeyDescriptor* k = find_key(key);
  if (!k) throw core::ConfigError(fmt::format("unknown key '{}'{}", key, suggestion(key)));
  YAML::Emitter e;
  k->encode(e, config);
  return e.c_str();
}

const std::vector<ConfigKeyInfo>& config_keys() {
  static const std::vector<ConfigKeyInfo> keys = [] {
    const TrainConfig defaults;
    std::vector<ConfigKeyInfo> out;
    for (const KeyDescriptor& k : table())
      out.push_back(ConfigKeyInfo{k.name, k.type, config_value(defaults, k.name), k.description, k.required});
    return out;
  }();
  return keys;
}

}  // namespace train

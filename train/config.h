// TrainConfig: every setting of a training run, typed, with each default in
// exactly one place (the member initialisers below). config_loader.h fills it
// from YAML files with _BASE_ inheritance and `-o key=value` overrides, and
// describes every key (type, default, one line) for `yolo config --defaults`.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/pipeline.h"

namespace train {

struct ModelConfig {
  std::string cfg;                    // optional Darknet .cfg; empty = built-in YOLOv3
  double width = 1.0;                 // channel multiplier of the built-in model
  int input_size = 416;               // training/eval size when multi-scale is off; multiple of 32
  std::vector<int> anchors = {10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326};
  std::vector<std::vector<int>> masks = {{6, 7, 8}, {3, 4, 5}, {0, 1, 2}};
  double ignore_thresh = 0.7;
  bool use_label_smooth = false;      // PaddleDetection's YOLOv3 recipe turns it off
  double scale_x_y = 1.0;
  double objectness_bias = 0.0;       // initial bias of the output convs' objectness channels (e.g. -4)
  std::string bn_style = "standard";  // standard | darknet (inference formula)
  double bn_momentum = 0.1;           // PyTorch meaning
};

struct InputConfig {
  std::string resize = "letterbox";   // letterbox | stretch: last training resize, eval, detect
  bool mean_std = false;              // subtract mean / divide by std after scaling to [0,1]
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
};

// The built-in synthetic data set, generated when `data.train` names a
// shapes data set that is absent.
struct ShapesConfig {
  bool generate = false;              // generate into data.cache_dir when missing
  int images = 2000;
  int classes = 6;
  int size = 256;
  std::uint64_t seed = 0;
};

struct DataConfig {
  std::string train;                  // dataset spec: voc:DIR[:SPLIT], coco:ANN[:IMAGES], darknet:LIST[:NAMES]
  std::string val;                    // evaluation dataset spec
  std::string cache_dir = "cache";    // where generated data sets go
  ShapesConfig shapes;
  int workers = 2;
  int max_boxes = 50;
  int mixup_epochs = 0;               // mixup only in the first N epochs (0 = every epoch; PaddleDetection: 250)
  int mosaic_epochs = 0;              // mosaic only in the first N epochs (0 = every epoch)
  data::AugmentConfig augment;        // mixup, distort, expand, crop, flip, resize, multiscale
};

struct TrainSection {
  std::int64_t max_steps = 0;         // stop after this many optimizer updates (overrides epochs when > 0)
  int epochs = 270;
  int batch_size = 8;                 // images per forward pass
  int subdivisions = 1;               // passes accumulated per optimizer update
  std::uint64_t seed = 0;
  int threads = 0;                    // compute threads; 0 = cores available
  double clip_grad_norm = 0.0;        // 0 = off
  bool ema = false;                   // exponential moving average of the weights, used for eval
  double ema_decay = 0.9998;
  std::vector<std::string> freeze;    // parameter-name prefixes kept fixed...
  int freeze_epochs = 0;              // ...for this many epochs (0 = the whole run)
  int max_bad_steps = 5;              // non-finite losses in a row before the run stops
  int patience = 0;                   // evaluations without a new best before the run stops (0 = never)
  bool prepare_sizes = true;          // ready every multi-scale size before the first step
};

struct OptimizerConfig {
  std::string type = "sgd";           // sgd | adamw
  double lr = 0.001;
  double momentum = 0.9;
  double weight_decay = 0.0005;       // L2 for sgd, decoupled for adamw
  bool decay_bias_and_bn = false;     // false: no decay on biases and BN parameters
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

struct ScheduleConfig {
  std::string type = "piecewise";     // piecewise | cosine | burn_in (Darknet steps)
  std::int64_t warmup_steps = 4000;   // linear warm-up (piecewise, cosine)
  double warmup_start = 0.0;          // factor at step 0 of the warm-up
  std::vector<double> milestones = {216, 243};  // epochs where lr *= gamma (piecewise)
  double gamma = 0.1;
  double min_factor = 0.0;            // cosine floor
  std::int64_t burn_in = 1000;        // Darknet: lr * (step / burn_in)^power
  double power = 4.0;
  std::vector<std::int64_t> steps = {400000, 450000};  // Darknet's steps/scales (burn_in type)
  std::vector<double> scales = {0.1, 0.1};
};

struct EvalConfig {
  int interval = 10;                  // epochs between evaluations (0 = only at the end)
  double score_thresh = 0.005;
  double nms_iou = 0.45;
  std::string nms = "bounded";        // bounded | darknet (do_nms_sort, for comparisons)
  int pre_nms_top_k = 1000;           // bounded: candidates per class into NMS (0 = all)
  int max_dets = 100;
  std::string metric = "voc";         // voc | coco
  bool voc_iou_strict = false;
};

struct LogConfig {
  int interval = 20;                  // steps between metrics.jsonl lines
  int plot_interval = 100;            // steps between plot refreshes
};

struct CheckpointConfig {
  int interval = 1000;                // steps between checkpoints
  int keep_last = 3;
};

// Data-parallel training over MPI ranks (`mpirun -np K yolo train ...`);
// ignored by a single process.
struct DistributedConfig {
  std::string batch = "per_rank";     // per_rank: train.batch_size per rank | global: split over the ranks
  std::string lr_scaling = "none";    // none | linear | sqrt: optimizer.lr x K or x sqrt(K) (per_rank batches only)
  bool sync_bn = false;               // batch statistics summed over the ranks (one process: the same kernel)
  double bucket_mb = 25.0;            // gradient allreduce bucket size
  bool overlap = true;                // start a bucket's allreduce while backward still runs
};

struct TrainConfig {
  ModelConfig model;
  InputConfig input;
  DataConfig data;
  TrainSection train;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  EvalConfig eval;
  LogConfig log;
  CheckpointConfig checkpoint;
  DistributedConfig distributed;
  std::string pretrain_weights;       // Darknet .weights (e.g. darknet53.conv.74) or a checkpoint
  std::string precision = "fp32";     // fp32 | bf16 (convolutions in bfloat16; needs AVX512-BF16)
};

}  // namespace train

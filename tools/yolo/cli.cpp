#include "tools/yolo/cli.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <iostream>
#include <memory>
#include <utility>
#include <vector>

#include "core/error.h"
#include "tools/yolo/anchors_command.h"
#include "tools/yolo/bench_command.h"
#include "tools/yolo/bench_detect.h"
#include "tools/yolo/config_command.h"
#include "tools/yolo/conformance_command.h"
#include "tools/yolo/convert_command.h"
#include "tools/yolo/data_command.h"
#include "tools/yolo/demo_command.h"
#include "tools/yolo/detect_command.h"
#include "tools/yolo/eval_command.h"
#include "tools/yolo/export_command.h"
#include "tools/yolo/forward_command.h"
#include "tools/yolo/make_shapes_command.h"
#include "tools/yolo/op_command.h"
#include "tools/yolo/summary_command.h"
#include "tools/yolo/train_command.h"

namespace yolo {

namespace {

// Where a command writes: its report and its errors.
struct Io {
  std::ostream* out;
  std::ostream* err;
};

// A subcommand: its options, bound to its own arguments, and how to run it
// once parsed (the exit status).
using Command = std::pair<CLI::App*, std::function<int()>>;


Command add_op(CLI::App& app, Io io) {
  auto op_args = std::make_shared<OpCommandArgs>();
  CLI::App* op = app.add_subcommand("op", "Run one op on .npy inputs and write its outputs and gradients");
  op->add_option("name", op_args->op, "Op name (see --list)");
  op->add_option("--in", op_args->inputs, "Input as NAME=FILE.npy (repeatable)")->allow_extra_args(false);
  op->add_option("--attr", op_args->attrs, "Attribute as KEY=VALUE (repeatable)")->allow_extra_args(false);
  op->add_option("--grad-out", op_args->grad_out, "Cotangent of the first output (.npy); writes grad_<input>.npy");
  op->add_option("--out", op_args->out_dir, "Output directory (created if missing)");
  op->add_flag("--list", op_args->list, "List every op with inputs, outputs and attributes");
  return {op, [op_args, io] { run_op_command(*op_args, *io.out); return 0; }};
}

Command add_demo(CLI::App& app, Io io) {
  auto demo_args = std::make_shared<DemoArgs>();
  CLI::App* demo = app.add_subcommand("demo", "Fit a small network with the tape and print the loss falling");
  demo->add_option("--steps", demo_args->steps, "Optimizer steps")->check(CLI::PositiveNumber);
  demo->add_option("--lr", demo_args->learning_rate, "Learning rate")->check(CLI::PositiveNumber);
  demo->add_option("--seed", demo_args->seed, "Random seed");
  return {demo, [demo_args, io] { run_demo(*demo_args, *io.out); return 0; }};
}

Command add_conformance(CLI::App& app, Io io) {
  auto conformance_args = std::make_shared<ConformanceArgs>();
  CLI::App* conformance = app.add_subcommand("conformance", "Check an op against a file of conformance vectors");
  conformance->add_option("op", conformance_args->op, "Op name (yolo_loss)")->required();
  conformance->add_option("file", conformance_args->file, "Vector file (.json)")->required();
  return {conformance, [conformance_args, io] { return run_conformance_command(*conformance_args, *io.out); }};
}

Command add_data(CLI::App& app, Io io) {
  auto data_args = std::make_shared<DataArgs>();
  CLI::App* data_cmd = app.add_subcommand("data", "Print data set statistics and draw augmented samples");
  data_cmd->add_option("--dataset", data_args->dataset, "voc:DIR[:SPLIT] | coco:ANNOTATIONS.json[:IMAGE_DIR] | darknet:LIST[:NAMES]")->required();
  data_cmd->add_option("--preview", data_args->preview, "Write a grid of augmented training samples to this PNG");
  data_cmd->add_option("--size", data_args->size, "Input size (histogram, preview)")->check(CLI::Range(32, 4096));
  data_cmd->add_option("--count", data_args->count, "Preview samples")->check(CLI::Range(1, 64));
  data_cmd->add_flag("--multiscale", data_args->multiscale, "Preview at a random multi-scale size (320..608)");
  data_cmd->add_flag("--no-augment", data_args->no_augment, "Preview resized samples without augmentation");
  data_cmd->add_option("--workers", data_args->workers, "Loader worker threads")->check(CLI::Range(0, 64));
  data_cmd->add_option("--seed", data_args->seed, "Augmentation seed");
  data_cmd->add_option("--config", data_args->config, "Preview with this training config's augmentations (input size: --size)");
  data_cmd->add_option("--mosaic", data_args->mosaic, "Mosaic probability of the preview (overrides the config's)")
      ->check(CLI::Range(0.0, 1.0));
  return {data_cmd, [data_args, io] { run_data_command(*data_args, *io.out); return 0; }};
}

Command add_anchors(CLI::App& app, Io io) {
  auto anchors_args = std::make_shared<AnchorsArgs>();
  CLI::App* anchors = app.add_subcommand("anchors", "K-means anchors (1 - IoU distance) for a data set");
  anchors->add_option("--dataset", anchors_args->dataset, "voc:DIR[:SPLIT] | coco:ANNOTATIONS.json[:IMAGE_DIR] | darknet:LIST[:NAMES]")->required();
  anchors->add_option("--k", anchors_args->k, "Number of anchors")->check(CLI::Range(1, 64));
  anchors->add_option("--size", anchors_args->size, "Network input size")->check(CLI::Range(32, 4096));
  anchors->add_option("--seed", anchors_args->seed, "k-means++ seed");
  return {anchors, [anchors_args, io] { run_anchors_command(*anchors_args, *io.out); return 0; }};
}

Command add_make_shapes(CLI::App& app, Io io) {
  auto shapes_args = std::make_shared<data::ShapesOptions>();
  CLI::App* shapes = app.add_subcommand("make-shapes", "Write the synthetic shapes data set (VOC, COCO, Darknet)");
  shapes->add_option("--out", shapes_args->out, "Output folder")->required();
  shapes->add_option("--format", shapes_args->format, "voc | coco | darknet | all");
  shapes->add_option("--images", shapes_args->images, "Total images, split 80/10/10 into train/val/test");
  shapes->add_option("--classes", shapes_args->classes, "Number of classes (shape kinds, 1..6)");
  shapes->add_option("--size", shapes_args->size, "Longer image side");
  shapes->add_option("--seed", shapes_args->seed, "Random seed (same seed, same bytes)");
  return {shapes, [shapes_args, io] { run_make_shapes_command(*shapes_args, *io.out); return 0; }};
}

Command add_eval(CLI::App& app, Io io) {
  auto eval_args = std::make_shared<EvalArgs>();
  CLI::App* eval = app.add_subcommand("eval", "Score detections (COCO results format) with VOC or COCO mAP");
  eval->add_option("--dataset", eval_args->dataset, "voc:DIR[:SPLIT] (split test by default) | coco:ANNOTATIONS.json");
  eval->add_option("--detections", eval_args->detections, "Results file: [{image_id, category_id, bbox, score}]");
  eval->add_option("--classes", eval_args->classes, "VOC class names a,b,... when DIR has no classes.txt");
  eval->add_option("--out", eval_args->out, "Write metrics.json here");
  eval->add_flag("--voc-iou-strict", eval_args->voc_iou_strict, "VOC: count IoU > 0.5 instead of >= 0.5");
  eval->add_flag("--per-category", eval_args->per_category, "COCO: also report AP per category");
  eval->add_option("--cfg", eval_args->cfg, "Model .cfg (model-running form)");
  eval->add_option("--config", eval_args->config, "Training config (model-running form)");
  eval->add_option("--weights", eval_args->weights, "Model weights (model-running form)");
  eval->add_option("--split", eval_args->split, "Split of --config's data set (model-running form)");
  eval->add_option("--plots", eval_args->plots,
                   "Write pr_curve.png and confusion_matrix.png (IoU 0.5; confusion at score 0.25) into this folder");
  eval->add_option("--save-detections", eval_args->save_detections, "Write the model's detections (model-running form)");
  eval->add_option("--nms", eval_args->nms, "bounded or darknet (model-running form; default: eval.nms, bounded)");
  eval->add_option("--pre-nms-top-k", eval_args->pre_nms_top_k,
                   "Bounded NMS: candidates per class (model-running form; default: eval.pre_nms_top_k, 1000)")
      ->check(CLI::NonNegativeNumber);
  eval->add_option("--max-dets", eval_args->max_dets,
                   "Detections kept per image (model-running form; default: eval.max_dets, 100)")
      ->check(CLI::PositiveNumber);
  eval->add_option("--batch", eval_args->batch, "Images per forward pass (model-running form)")->check(CLI::Range(1, 1024));
  eval->add_option("--size", eval_args->size, "Network input size, a multiple of 32 (model-running form; default: the model's)")->check(CLI::Range(32, 4096));
  return {eval, [eval_args, io] { run_eval_command(*eval_args, *io.out, *io.err); return 0; }};
}

Command add_forward(CLI::App& app, Io io) {
  auto forward_args = std::make_shared<ForwardArgs>();
  CLI::App* forward = app.add_subcommand(
      "forward",
      "Run a network once (eval mode, Darknet batch norm) and dump DIR/input.npy and DIR/head_K.npy (the raw input "
      "of the K-th [yolo] section, K from 0, before any activation)");
  forward->add_option("--cfg", forward_args->cfg,
                      "Darknet .cfg (Darknet's batch norm and letterbox; optional when --weights is a checkpoint)");
  forward->add_option("--config", forward_args->config, "Training config (.yml) describing the model");
  forward->add_option("--weights", forward_args->weights, "Darknet .weights or native checkpoint (told apart by magic)");
  forward->add_option("--image", forward_args->image, "Image, letterboxed as Darknet does to the cfg's size or --size");
  forward->add_option("--input", forward_args->input, "[N,3,H,W] float32 .npy used as is; the network takes its HxW");
  forward->add_option("--size", forward_args->size, "Square input size for --image (multiple of 32)")
      ->check(CLI::PositiveNumber);
  forward->add_option("--dump", forward_args->dump, "Output directory")->required();
  forward->add_flag("--all-layers", forward_args->all_layers,
                    "Also write DIR/layer_NNN_<type>.npy for every layer; a [yolo] layer's file is what Darknet's "
                    "yolo layer outputs (logistic on x, y, objectness, classes; w, h raw)");
  forward->add_flag("--decode", forward_args->decode,
                    "Also write DIR/detections.npy: every box of every head decoded without a threshold, [N, boxes, "
                    "cx, cy, w, h (input pixels), objectness, class probabilities], as `yolo export --decode`");
  return {forward, [forward_args, io] { run_forward_command(*forward_args, *io.out); return 0; }};
}

Command add_convert(CLI::App& app, Io io) {
  auto convert_args = std::make_shared<ConvertArgs>();
  CLI::App* convert = app.add_subcommand("convert", "Convert between Darknet .weights and native checkpoints");
  convert->add_option("--cfg", convert_args->cfg, "Darknet .cfg describing the network")->required();
  convert->add_option("--weights", convert_args->weights, "Darknet .weights to read (writes a checkpoint)");
  convert->add_option("--checkpoint", convert_args->checkpoint, "Native checkpoint to read (writes .weights)");
  convert->add_option("--out", convert_args->out, "Output file")->required();
  return {convert, [convert_args, io] { run_convert_command(*convert_args, *io.out); return 0; }};
}

Command add_summary(CLI::App& app, Io io) {
  auto summary_args = std::make_shared<SummaryArgs>();
  CLI::App* summary = app.add_subcommand("summary", "Layers, output shapes, parameters and FLOPs of a network");
  summary->add_option("--cfg", summary_args->cfg, "Darknet .cfg");
  summary->add_option("--config", summary_args->config, "Training config (.yml) describing the model");
  summary->add_option("--size", summary_args->size, "Square input size (default: the cfg's)")->check(CLI::PositiveNumber);
  return {summary, [summary_args, io] { run_summary_command(*summary_args, *io.out); return 0; }};
}

Command add_detect(CLI::App& app, Io io) {
  auto detect_args = std::make_shared<DetectArgs>();
  CLI::App* detect = app.add_subcommand("detect", "Detect objects in images or a video: pictures with labelled boxes and JSON results");
  detect->add_option("--weights", detect_args->weights, "Darknet .weights or native checkpoint (told apart by magic)")->required();
  detect->add_option("--cfg", detect_args->cfg, "Darknet .cfg (optional when --weights is a checkpoint)");
  detect->add_option("--config", detect_args->config, "Training config describing the model");
  detect->add_option("--image", detect_args->image, "One image");
  detect->add_option("--images", detect_args->images, "A folder of images or a list file (one path per line)");
  detect->add_option("--thresh", detect_args->thresh, "Objectness and class-probability threshold");
  detect->add_option("--nms", detect_args->nms,
                     "bounded (default: at most --pre-nms-top-k candidates per class into NMS) or darknet (do_nms_sort "
                     "over every box, for comparisons); a number sets --nms-iou");
  detect->add_option("--nms-iou", detect_args->nms_iou, "NMS IoU: a box overlapping a better one of its class by more loses the class");
  detect->add_option("--pre-nms-top-k", detect_args->pre_nms_top_k, "Bounded NMS: candidates per class, best first (0 = all)")
      ->check(CLI::NonNegativeNumber);
  detect->add_option("--max-dets", detect_args->max_dets, "Detections kept per image, best first (0 = all)")
      ->check(CLI::NonNegativeNumber);
  detect->add_option("--names", detect_args->names, "Class names, one per line (default: the checkpoint's)");
  detect->add_option("--out", detect_args->out, "Output PNG (with --image) or annotated video (with --video: OUT.mp4)");
  detect->add_option("--out-dir", detect_args->out_dir, "Output folder: one PNG per image, named after it");
  detect->add_option("--json", detect_args->json, "Write detections as COCO results records with category names");
  detect->add_option("--size", detect_args->size, "Network input size, a multiple of 32 (default: the model's)")->check(CLI::Range(32, 4096));
  detect->add_option("--batch", detect_args->batch, "Images per forward pass")->check(CLI::Range(1, 1024));
  detect->add_option("--video", detect_args->video,
                     "A video (any container and codec FFmpeg reads; docs/video.md); --out is then the annotated video and "
                     "--json its JSON lines (default OUT.jsonl)");
  detect->add_option("--every", detect_args->every, "With --video: run on every N-th frame; OUT holds those frames "
                     "at the source rate / N")->check(CLI::PositiveNumber);
  return {detect, [detect_args, io] { run_detect_command(*detect_args, *io.out, *io.err); return 0; }};
}

Command add_config(CLI::App& app, Io io) {
  auto config_args = std::make_shared<ConfigArgs>();
  CLI::App* config_cmd = app.add_subcommand("config", "Print a training config merged (--config) or every key's default (--defaults)");
  config_cmd->add_option("--config", config_args->config, "Training config (.yml); prints the merged result");
  config_cmd->add_option("-o,--override", config_args->overrides, "Override as KEY=VALUE, VALUE a YAML flow node (repeatable)")
      ->allow_extra_args(false);
  config_cmd->add_flag("--defaults", config_args->defaults, "List every key with its type, default and description");
  config_cmd->add_flag("--markdown", config_args->markdown, "With --defaults: the Markdown reference (docs/config_keys.md)");
  return {config_cmd, [config_args, io] { run_config_command(*config_args, *io.out); return 0; }};
}

Command add_train(CLI::App& app, Io io) {
  auto train_args = std::make_shared<TrainCommandArgs>();
  CLI::App* train_cmd = app.add_subcommand("train", "Train from a config into a run directory, or resume one");
  train_cmd->add_option("--config", train_args->config, "Training config (.yml)");
  train_cmd->add_option("-o,--override", train_args->overrides, "Override as KEY=VALUE, VALUE a YAML flow node (repeatable)")
      ->allow_extra_args(false);
  train_cmd->add_option("--run-dir", train_args->run_dir, "Run directory (default runs/<config name>)");
  train_cmd->add_option("--resume", train_args->resume, "Resume the run in this directory from its last checkpoint");
  train_cmd->add_flag("--overwrite", train_args->overwrite,
                      "Start afresh in a --run-dir that already holds a run (its metrics, plots and checkpoints are deleted)");
  return {train_cmd, [train_args, io] { return run_train_command(*train_args, *io.out); }};
}

Command add_bench(CLI::App& app, Io io) {
  auto bench_args = std::make_shared<BenchArgs>();
  auto detect_args = std::make_shared<BenchDetectArgs>();
  CLI::App* bench = app.add_subcommand(
      "bench", "Time a training step or a forward pass on random inputs (no data loader), or detection's decode + NMS");
  bench->add_option("mode", bench_args->mode, "train, forward or detect")->required()
      ->check(CLI::IsMember({"train", "forward", "detect"}));
  bench->add_option("--weights", detect_args->weights, "detect: Darknet .weights or a checkpoint");
  bench->add_option("--image", detect_args->image, "detect: the picture (default: Darknet's dog.jpg if installed)");
  bench->add_option("--thresh", detect_args->thresholds, "detect: thresholds, comma-separated");
  bench->add_option("--nms", detect_args->nms, "detect: bounded or darknet")->check(CLI::IsMember({"bounded", "darknet"}));
  bench->add_option("--pre-nms-top-k", detect_args->pre_nms_top_k, "detect: candidates per class into bounded NMS")
      ->check(CLI::NonNegativeNumber);
  bench->add_option("--max-dets", detect_args->max_dets, "detect: detections kept per image")->check(CLI::NonNegativeNumber);
  bench->add_option("--cfg", bench_args->cfg, "Darknet .cfg");
  bench->add_option("--config", bench_args->config, "Training config (.yml) describing the model");
  bench->add_option("--size", bench_args->size, "Square input size, a multiple of 32 (default: the cfg's or config's)")
      ->check(CLI::Range(32, 4096));
  bench->add_option("--batch", bench_args->batch, "Images per step (default: the cfg's batch/subdivisions or the "
                    "config's train.batch_size)")->check(CLI::Range(1, 4096));
  bench->add_option("--threads", bench_args->threads, "Compute threads (default: every core)")->check(CLI::Range(1, 1024));
  bench->add_option("--steps", bench_args->steps, "Measured steps after 2 warm-ups")->check(CLI::Range(1, 100000));
  bench->add_option("--subdivisions", bench_args->subdivisions,
                    "train: passes of --batch images accumulated per step (optimizer update), as "
                    "train.subdivisions; converted weights are kept across them")
      ->check(CLI::Range(1, 4096));
  bench->add_option("--multiscale-steps", bench_args->multiscale_steps,
                    "train/forward: then a step at each size from size-64 (at least 32) to size+64 by 32 and N "
                    "steps at random ones among them (multi-scale training)")
      ->check(CLI::Range(0, 100000));
  bench->add_flag("!--no-prepare", bench_args->prepare,
                  "train/forward: skip readying every input size before the first step (yolo train readies its "
                  "multi-scale sizes by default)");
  bench->add_option("--precision", bench_args->precision, "fp32 or bf16")->check(CLI::IsMember({"fp32", "bf16"}));
  bench->add_option("--loss", bench_args->loss, "train: squares (sum over heads of mean(head^2)) or yolo")
      ->check(CLI::IsMember({"squares", "yolo"}));
  bench->add_flag("--profile", bench_args->profile, "Print time per op kind, forward and backward (to stderr)");
  bench->add_flag("--json", bench_args->json, "End stdout with one JSON object of the results");
  bench->add_option("--write-cfg", bench_args->write_cfg, "Also write the network as a Darknet .cfg (for bench/torch_peer.py)");
  return {bench, [bench_args, detect_args, io] {
            if (bench_args->mode != "detect") {
              run_bench_command(*bench_args, *io.out, *io.err);
              return 0;
            }
            if (!bench_args->config.empty()) {
              throw core::ConfigError("bench detect: give --weights (and --cfg for Darknet weights), not --config");
            }
            detect_args->cfg = bench_args->cfg;
            detect_args->size = bench_args->size;
            detect_args->threads = bench_args->threads;
            detect_args->steps = bench_args->steps;
            detect_args->json = bench_args->json;
            run_bench_detect(*detect_args, *io.out, *io.err);
            return 0;
          }};
}

Command add_plot(CLI::App& app, Io io) {
  auto plot_dir = std::make_shared<std::string>();
  CLI::App* plot = app.add_subcommand("plot", "Redraw a run directory's plots from its metrics.jsonl");
  plot->add_option("dir", *plot_dir, "Run directory")->required();
  return {plot, [plot_dir, io] { run_plot_command(*plot_dir, *io.out); return 0; }};
}

Command add_export(CLI::App& app, Io io) {
  auto export_args = std::make_shared<ExportArgs>();
  CLI::App* export_cmd = app.add_subcommand("export", "Write a model as a standard ONNX graph (docs/onnx_export.md)");
  export_cmd->add_option("--weights", export_args->weights, "Native checkpoint, or Darknet .weights with --cfg")
      ->required();
  export_cmd->add_option("--cfg", export_args->cfg, "Darknet .cfg (optional when --weights is a checkpoint)");
  export_cmd->add_option("--config", export_args->config, "Training config describing the model");
  export_cmd->add_option("--format", export_args->format, "Output format: onnx");
  export_cmd->add_option("--out", export_args->out, "Output file (MODEL.onnx)")->required();
  export_cmd->add_option("--size", export_args->size, "Square input size, a multiple of 32 (default: the model's)");
  export_cmd->add_option("--batch", export_args->batch, "Batch dimension: a count (default 1) or dynamic");
  export_cmd->add_flag("--decode", export_args->decode,
                       "One decoded output `detections` [N, boxes, 4+1+classes] instead of the raw heads");
  return {export_cmd, [export_args, io] { run_export_command(*export_args, *io.out); return 0; }};
}

}  // namespace

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"yolo: a CPU training framework for YOLOv3 detectors"};
  app.require_subcommand(1);
  const Io io{&out, &err};
  // In the order `yolo --help` lists them.
  std::vector<Command> commands;
  for (auto add : {add_op, add_demo, add_conformance, add_data, add_anchors, add_make_shapes, add_eval, add_forward,
                   add_convert, add_summary, add_detect, add_config, add_train, add_bench, add_plot, add_export}) {
    commands.push_back(add(app, io));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }

  const std::string command = app.get_subcommands().front()->get_name();
  try {
    for (const auto& [subcommand, run] : commands) {
      if (subcommand->parsed()) return run();
    }
    return 0;
  } catch (const std::exception& e) {
    // Library errors already name the op, file or key at fault.
    err << "yolo " << command << ": error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace yolo

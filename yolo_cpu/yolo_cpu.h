// yolo_cpu: the installed C++ API of the framework, for the common case:
// load a trained detector and run it on images, or train one from a config
// file. Everything else (tensors, the tape, ops, data sets) stays inside
// libyolo_cpu.so; this header and yolo_cpu/version.h are all a program
// includes. docs/library.md describes the package, the ABI and the example.
//
//   find_package(yolo_cpu REQUIRED)
//   target_link_libraries(app PRIVATE yolo_cpu::yolo_cpu)
//
//   auto detector = yolo_cpu::Detector::load("runs/shapes/checkpoints/best.ckpt");
//   for (const yolo_cpu::Detection& d : detector.detect(rgb, width, height))
//     std::printf("%s %.3f [%.1f %.1f %.1f %.1f]\n", d.class_name.c_str(), d.score, d.x1, d.y1, d.x2, d.y2);
//
// Detection runs exactly what `yolo detect` runs: the model's letterbox (or
// stretch) and normalisation, one forward pass, decoding, the bounded
// class-wise NMS (docs/nms.md) and boxes in the image's pixels.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "yolo_cpu/version.h"

// The library is built with hidden visibility; only what carries this mark
// is exported from libyolo_cpu.so.
#define YOLO_CPU_API __attribute__((visibility("default")))

namespace yolo_cpu {

// The library's version, "MAJOR.MINOR.PATCH" (YOLO_CPU_VERSION_STRING of the
// headers it was built with).
YOLO_CPU_API const char* version() noexcept;

// Every error the library reports: bad arguments, unreadable or malformed
// files, configs that do not validate. The message is the framework's own
// and names the file, key or shape at fault.
class YOLO_CPU_API Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message);
  ~Error() override;
};

// One detected object: corners in the pixels of the image given to
// Detector::detect (clipped to it), the class probability and the class.
struct Detection {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  float score = 0;       // objectness * class probability, in (score_threshold, 1]
  int class_id = 0;      // index into Detector::class_names()
  std::string class_name;
};

struct DetectorOptions {
  float score_threshold = 0.5f;  // `yolo detect --thresh`: detections at or below are dropped; [0, 1)
  float nms_iou = 0.45f;         // `--nms-iou`: same-class boxes overlapping more are suppressed; [0, 1]
  int input_size = 0;            // `--size`: square network input, a multiple of 32; 0 = the model's own
  int max_detections = 100;      // `--max-dets`: per image, best scores first; 0 = all
};

class YOLO_CPU_API Detector {
 public:
  // A native checkpoint (`yolo train`'s checkpoints/*.ckpt), which describes
  // its network, input size and class names. Throws Error for a missing or
  // unreadable file, Darknet .weights (they need a cfg), or bad options.
  static Detector load(const std::string& checkpoint_path, const DetectorOptions& options = {});
  // A Darknet .cfg with Darknet .weights or a checkpoint of the same layers
  // (whose class names are then used; Darknet weights give classes "0",
  // "1", ...). Throws Error as above, and for a cfg that does not parse.
  static Detector load(const std::string& cfg_path, const std::string& weights_path,
                       const DetectorOptions& options = {});

  Detector(Detector&&) noexcept;
  Detector& operator=(Detector&&) noexcept;
  ~Detector();

  // Detections in one image of 8-bit RGB pixels, interleaved (R, G, B per
  // pixel, rows top to bottom), sorted by score, best first. `stride` is the
  // bytes from one row to the next; 0 means width * 3. `size` is the bytes
  // of `rgb`, which must hold the image: (height - 1) * stride + width * 3.
  // Throws Error for a null buffer, a non-positive size, a stride below
  // width * 3 or a buffer too small. Calls on one Detector must not overlap
  // (a pass switches the network to eval mode and back). Several Detectors
  // share the process-wide oneDNN context and buffer cache, which lock, but
  // concurrent detection is not tested.
  std::vector<Detection> detect(const std::uint8_t* rgb, std::size_t size, int width, int height,
                                int stride = 0) const;

  // Class names by class_id.
  const std::vector<std::string>& class_names() const;
  // The network input's width the detector runs at (options.input_size or
  // the model's own; the height is the same unless a cfg says otherwise).
  int input_size() const;
  const DetectorOptions& options() const;
  // Every member but assignment and the destructor throws Error on a
  // Detector that was moved from.

 private:
  struct Impl;
  explicit Detector(std::unique_ptr<Impl> impl);
  const Impl& impl() const;
  std::unique_ptr<Impl> impl_;
};

struct TrainSettings {
  bool resume = false;     // continue the run in run_dir from checkpoints/last.ckpt
  bool overwrite = false;  // clear a run already in run_dir (otherwise that is an error)
  bool quiet = true;       // false: progress and per-step lines go to stdout, as `yolo train` prints them
};

struct TrainSummary {
  std::int64_t steps = 0;        // optimizer updates done in total
  double last_loss = 0;          // loss of the last step
  // The last evaluation's metrics (mAP, AP per class...) by name; empty when
  // none ran. Only numbers appear here; last_eval_json holds all of it.
  std::map<std::string, double> last_eval;
  std::string last_eval_json;    // the same evaluation as a JSON object ("null" when none ran)
  bool interrupted = false;      // stopped by Ctrl-C, after a checkpoint
  bool stopped_early = false;    // train.patience evaluations without a new best
  std::string checkpoint;        // run_dir/checkpoints/last.ckpt, loadable by Detector::load
};

// Trains as `yolo train --config config_path --run-dir run_dir -o KEY=VALUE
// ...` does, `overrides` being the -o values in order: metrics.jsonl, plots
// and checkpoints under run_dir. Throws Error for
// a config that does not load or validate, a run_dir that already holds a
// run (unless settings.resume or settings.overwrite), unreadable data or a
// failed write.
YOLO_CPU_API TrainSummary train(const std::string& config_path, const std::string& run_dir,
                                const std::vector<std::string>& overrides = {}, const TrainSettings& settings = {});

}  // namespace yolo_cpu

// `yolo detect --video IN --out OUT.mp4 [--every N] [--json OUT.jsonl]`:
// the detector of `yolo detect --image` (same preprocessing, thresholds and
// NMS) on the frames of a video, batched --batch frames per forward pass.
// Writes OUT, a video of the processed frames with their boxes drawn as on
// the detection PNGs, at the source rate divided by N, and one JSON line per
// processed frame (docs/video.md has the record). A damaged input still
// leaves OUT and the JSON lines complete for the frames decoded before the
// damage, then fails naming the file.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "models/detect/detector.h"
#include "tools/yolo/detect_command.h"

namespace yolo {

// Throws core::ConfigError for --out missing, --out-dir given, --every
// below 1, or --out naming the input itself.
void check_video_args(const DetectArgs& args);

// Where the JSON lines go: --json, else OUT with the extension .jsonl
// (runs/cars.mp4 -> runs/cars.jsonl).
std::string video_json_path(const DetectArgs& args);

// Runs the whole video. Throws core::IoError naming the file for an input
// FFmpeg cannot read, an output it cannot write, and (after finishing both
// outputs) an input that turned out truncated or corrupt.
void run_video_detect(const DetectArgs& args, const models::Model& model, const models::DetectOptions& options,
                      const std::vector<std::string>& names, std::ostream& out, std::ostream& err);

}  // namespace yolo

#include "tools/yolo/detect_video.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "core/error.h"
#include "core/progress.h"
#include "models/letterbox.h"
#include "tools/yolo/video_io.h"

namespace yolo {

namespace fs = std::filesystem;
using core::ConfigError;

namespace {

// The JSON lines file, one record per processed frame, flushed as it goes so
// a long run can be followed (and a stopped one keeps its lines).
class JsonLines {
 public:
  explicit JsonLines(std::string path) : path_(std::move(path)), file_(path_, std::ios::trunc) {
    if (!file_) throw core::IoError(fmt::format("{}: cannot create the JSON lines file", path_));
  }
  void write(const nlohmann::ordered_json& record) {
    file_ << record.dump() << '\n' << std::flush;
    if (!file_) throw core::IoError(fmt::format("{}: writing failed (disk full?)", path_));
  }
  void close() {
    file_.close();
    if (!file_) throw core::IoError(fmt::format("{}: closing failed", path_));
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream file_;
};

double two_decimals(double v) { return std::round(v * 100) / 100; }

// {"frame": 12, "time": 0.4, "detections": [{"category": "dog", "score": 0.91,
// "bbox": [x, y, w, h]}]}, the box in the frame's pixels as --json's records.
// Keys in this order (ordered_json), as docs/video.md shows them.
nlohmann::ordered_json frame_record(const VideoFrame& frame, const std::vector<models::ImageDetection>& dets,
                                    const std::vector<std::string>& names) {
  nlohmann::ordered_json boxes = nlohmann::ordered_json::array();
  for (const models::ImageDetection& d : dets) {
    boxes.push_back({{"category", names[static_cast<std::size_t>(d.label)]},
                     {"score", std::round(d.score * 1e4) / 1e4},
                     {"bbox", {two_decimals(d.x1), two_decimals(d.y1), two_decimals(d.x2 - d.x1), two_decimals(d.y2 - d.y1)}}});
  }
  return {{"frame", frame.index}, {"time", std::round(frame.seconds * 1e6) / 1e6}, {"detections", boxes}};
}

// The output keeps only processed frames, so it plays at the source rate / N.
FrameRate output_rate(FrameRate source, int every) {
  const std::int64_t num = source.num, den = std::int64_t(source.den) * every;
  const std::int64_t g = std::gcd(num, den);
  if (den / g > INT32_MAX) return FrameRate{source.num, source.den};  // unreachable for real rates; keep it playable
  return FrameRate{static_cast<int>(num / g), static_cast<int>(den / g)};
}

// One run's sinks and its counts.
struct VideoRun {
  const models::Model& model;
  const models::DetectOptions& options;
  const std::vector<std::string>& names;
  VideoWriter& video;
  JsonLines& json;
  std::int64_t processed = 0, boxes = 0;

  // One forward pass over the frames, then each frame drawn, encoded and recorded.
  void process(std::vector<VideoFrame>& frames) {
    if (frames.empty()) return;
    std::vector<core::Tensor> planar;
    for (const VideoFrame& f : frames) {
      planar.push_back(models::darknet_planar_image(f.image.width, f.image.height, f.image.pixels.data()));
    }
    const auto dets = models::detect_batch(model, planar, options);
    for (std::size_t b = 0; b < frames.size(); ++b) {
      draw_detections(frames[b].image, dets[b], names);
      video.write(frames[b].image);
      json.write(frame_record(frames[b], dets[b], names));
      boxes += static_cast<std::int64_t>(dets[b].size());
    }
    processed += static_cast<std::int64_t>(frames.size());
    frames.clear();
  }
};

void print_input(const DetectArgs& args, const VideoInfo& info, std::ostream& out) {
  fmt::print(out, "video: {} ({}x{}, {}, {:.3f} frames/s{}", args.video, info.width, info.height, info.codec,
             info.frame_rate.value(), info.frame_rate_guessed ? " assumed, the file gives none" : "");
  if (info.expected_frames > 0) fmt::print(out, ", about {} frames", info.expected_frames);
  fmt::print(out, ")\n");
}

}  // namespace

void check_video_args(const DetectArgs& args) {
  if (args.out.empty()) throw ConfigError("detect: --video needs --out OUT.mp4 for the annotated video");
  if (!args.out_dir.empty()) throw ConfigError("detect: --video writes one video: give --out OUT.mp4, not --out-dir");
  if (args.every < 1) throw ConfigError(fmt::format("detect: --every {} must be at least 1", args.every));
  std::error_code ignored;
  if (fs::equivalent(args.video, args.out, ignored)) {
    throw ConfigError(fmt::format("detect: --out {} is the input video itself", args.out));
  }
}

std::string video_json_path(const DetectArgs& args) {
  if (!args.json.empty()) return args.json;
  return fs::path(args.out).replace_extension(".jsonl").string();
}

void run_video_detect(const DetectArgs& args, const models::Model& model, const models::DetectOptions& options,
                      const std::vector<std::string>& names, std::ostream& out, std::ostream& err) {
  VideoReader reader(args.video);
  const VideoInfo& info = reader.info();
  print_input(args, info, out);
  const FrameRate rate = output_rate(info.frame_rate, args.every);
  VideoWriter video(args.out, info.width, info.height, rate);
  JsonLines json(video_json_path(args));
  fmt::print(out, "writing {} ({}, {:.3f} frames/s) and {}\n", args.out, video.codec(), rate.value(), json.path());

  VideoRun run{model, options, names, video, json};
  const std::size_t expected = static_cast<std::size_t>((info.expected_frames + args.every - 1) / args.every);
  const bool terminal = core::Progress::is_terminal(2);
  core::Progress progress(err, "detect", "frames", expected, terminal);
  const auto started = std::chrono::steady_clock::now();
  std::vector<VideoFrame> batch;
  std::int64_t decoded = 0;
  while (std::optional<VideoFrame> frame = reader.next()) {
    ++decoded;
    if (frame->index % args.every != 0) continue;
    batch.push_back(std::move(*frame));
    if (batch.size() < static_cast<std::size_t>(args.batch)) continue;
    run.process(batch);
    // The estimate may be short; the bar's last line waits for the real end.
    if (expected > 0) progress.update(std::min(static_cast<std::size_t>(run.processed), expected - 1));
  }
  run.process(batch);
  if (expected > 0 && static_cast<std::size_t>(run.processed) == expected) {
    progress.update(expected);
  } else if (terminal && expected > 0) {
    err << "\n";
  }
  if (run.processed == 0) {
    // A video without frames would not play; the unfinished writer removes its file.
    json.close();
    fs::remove(json.path());
    const std::string failure = reader.failure();
    throw core::IoError(failure.empty() ? fmt::format("{}: the video holds no frame; nothing was written", args.video)
                                        : fmt::format("{}; no frame could be decoded, nothing was written", failure));
  }
  video.finish();
  json.close();

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print(out, "{} of {} frames processed in {:.1f} s ({:.2f} frames/s), {} detections; wrote {} and {}\n",
             run.processed, decoded, seconds, double(run.processed) / std::max(seconds, 1e-9), run.boxes, args.out,
             json.path());
  if (const std::string failure = reader.failure(); !failure.empty()) {
    throw core::IoError(fmt::format("{} (the {} frames processed before it are in {} and {})", failure, run.processed,
                                    args.out, json.path()));
  }
}

}  // namespace yolo

// Evaluation time on a generated set shaped like COCO val2017: 5000 images
// (ids scattered, not in order), 80 categories with non-contiguous ids,
// about 36k ground truths (1% crowd) and 100 detections per image (half
// jittered copies of ground truths, half random boxes; scores random).
// Reports, each timed separately: writing and reading the results file,
// reading the annotation file, the COCO evaluation and, on the same boxes
// seen as a 20-class VOC set, the VOC evaluation.
//
//   eval_bench [--images N] [--dets-per-image N] [--keep DIR]
// --keep writes gt.json and dets.json to DIR (for scripts/compare_cocoapi.py).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "core/atomic_file.h"
#include "train/eval/coco_eval.h"
#include "train/eval/coco_ground_truth.h"
#include "train/eval/detections_io.h"
#include "train/eval/voc_eval.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Generated {
  std::string gt_json;
  std::vector<train::Detection> dets;
  train::CocoGroundTruth layout;  // ids and names only, for the results-file keys
};

Generated generate(int images, int dets_per_image) {
  std::mt19937 rng(2017);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Generated g;
  for (int k = 0; k < 80; ++k) {
    g.layout.category_ids.push_back(k + 1 + k / 10);  // gaps, as COCO's 1..90
    g.layout.category_names.push_back(fmt::format("class{}", k));
  }
  std::string& j = g.gt_json;
  j = "{\"images\": [";
  for (int i = 0; i < images; ++i) {
    const std::int64_t id = 139 + static_cast<std::int64_t>(i) * 7919 % 600000;
    g.layout.image_ids.push_back(id);
    j += fmt::format("{}{{\"id\": {}, \"width\": 640, \"height\": 480, \"file_name\": \"{:012}.jpg\"}}",
                     i ? ", " : "", id, id);
  }
  j += "], \"categories\": [";
  for (int k = 0; k < 80; ++k) {
    j += fmt::format("{}{{\"id\": {}, \"name\": \"{}\"}}", k ? ", " : "", g.layout.category_ids[k],
                     g.layout.category_names[k]);
  }
  j += "], \"annotations\": [";
  std::int64_t ann_id = 1;
  g.layout.objects.resize(static_cast<std::size_t>(images));
  for (int i = 0; i < images; ++i) {
    const int n = static_cast<int>(u(rng) * 15.4);  // about 7.2 per image, as val2017
    for (int a = 0; a < n; ++a) {
      // Log-uniform sizes cover small, medium and large.
      const double w = std::exp(std::log(4.0) + u(rng) * std::log(600.0 / 4)), h = w * (0.5 + u(rng));
      const double x = u(rng) * std::max(1.0, 640 - w), y = u(rng) * std::max(1.0, 480 - h);
      const int k = static_cast<int>(u(rng) * 80);
      const bool crowd = u(rng) < 0.01;
      const double area = w * h * (0.5 + 0.4 * u(rng));  // a segment covers part of its box
      g.layout.objects[static_cast<std::size_t>(i)].push_back({x, y, w, h, area, crowd, ann_id, k});
      j += fmt::format("{}{{\"id\": {}, \"image_id\": {}, \"category_id\": {}, \"bbox\": [{}, {}, {}, {}], "
                       "\"area\": {}, \"iscrowd\": {}}}",
                       ann_id == 1 ? "" : ", ", ann_id, g.layout.image_ids[static_cast<std::size_t>(i)],
                       g.layout.category_ids[k], x, y, w, h, area, crowd ? 1 : 0);
      ++ann_id;
    }
  }
  j += "]}";
  for (int i = 0; i < images; ++i) {
    const auto& objects = g.layout.objects[static_cast<std::size_t>(i)];
    for (int d = 0; d < dets_per_image; ++d) {
      train::Detection det;
      det.image = static_cast<std::size_t>(i);
      det.score = u(rng);
      if (!objects.empty() && d % 2 == 0) {
        const auto& o = objects[static_cast<std::size_t>(u(rng) * objects.size())];
        det.label = u(rng) < 0.9 ? o.label : static_cast<int>(u(rng) * 80);
        det.x = o.x + (u(rng) - 0.5) * 0.3 * o.w;
        det.y = o.y + (u(rng) - 0.5) * 0.3 * o.h;
        det.w = o.w * (0.8 + 0.4 * u(rng));
        det.h = o.h * (0.8 + 0.4 * u(rng));
      } else {
        det.label = static_cast<int>(u(rng) * 80);
        det.w = 4 + u(rng) * 300;
        det.h = 4 + u(rng) * 300;
        det.x = u(rng) * 600;
        det.y = u(rng) * 440;
      }
      g.dets.push_back(det);
    }
  }
  return g;
}

}  // namespace

int main(int argc, char** argv) {
  int images = 5000, dets_per_image = 100;
  std::string keep;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--images") images = std::atoi(argv[i + 1]);
    else if (flag == "--dets-per-image") dets_per_image = std::atoi(argv[i + 1]);
    else if (flag == "--keep") keep = argv[i + 1];
    else {
      fmt::print(stderr, "usage: eval_bench [--images N] [--dets-per-image N] [--keep DIR]\n");
      return 2;
    }
  }
  const std::string dir = keep.empty() ? std::filesystem::temp_directory_path().string() : keep;
  std::filesystem::create_directories(dir);
  const std::string gt_path = dir + "/gt.json", dets_path = dir + "/dets.json";

  const Generated g = generate(images, dets_per_image);
  core::write_file_atomic(gt_path, g.gt_json);
  const auto keys = train::coco_detection_keys(g.layout);

  auto t0 = Clock::now();
  train::write_detections(dets_path, g.dets, keys);
  const double t_write = seconds_since(t0);

  t0 = Clock::now();
  const train::CocoGroundTruthFile gt = train::read_coco_ground_truth(gt_path);
  const double t_gt = seconds_since(t0);

  t0 = Clock::now();
  const train::DetectionsFile dets = train::read_detections(dets_path, train::coco_detection_keys(gt.gt));
  const double t_read = seconds_since(t0);

  t0 = Clock::now();
  const train::CocoMetrics coco = train::evaluate_coco(gt.gt, dets.detections);
  const double t_coco = seconds_since(t0);

  // The same boxes as a 20-class VOC set (labels folded), corners inclusive.
  train::VocGroundTruth voc;
  for (int k = 0; k < 20; ++k) voc.classes.push_back(fmt::format("class{}", k));
  for (std::size_t i = 0; i < gt.gt.image_ids.size(); ++i) {
    voc.image_names.push_back(fmt::format("{}", gt.gt.image_ids[i]));
    auto& objects = voc.objects.emplace_back();
    for (const auto& o : gt.gt.objects[i]) objects.push_back({o.x, o.y, o.x + o.w, o.y + o.h, o.label % 20, o.crowd});
  }
  std::vector<train::Detection> voc_dets = dets.detections;
  for (auto& d : voc_dets) d.label %= 20;
  t0 = Clock::now();
  const train::VocMetrics voc_metrics = train::evaluate_voc(voc, voc_dets);
  const double t_voc = seconds_since(t0);

  std::size_t num_gts = 0;
  for (const auto& o : gt.gt.objects) num_gts += o.size();
  fmt::print("generated: {} images, {} gts, {} detections ({:.1f} MB results file)\n", gt.gt.image_ids.size(), num_gts,
             dets.detections.size(), static_cast<double>(std::filesystem::file_size(dets_path)) / 1e6);
  fmt::print("write results file   {:7.3f} s\n", t_write);
  fmt::print("read annotations     {:7.3f} s\n", t_gt);
  fmt::print("read results file    {:7.3f} s\n", t_read);
  fmt::print("COCO evaluation      {:7.3f} s   (AP {:.4f}, AP50 {:.4f}, AR100 {:.4f})\n", t_coco, coco.stats[0],
             coco.stats[1], coco.stats[8]);
  fmt::print("VOC evaluation       {:7.3f} s   (mAP 11pt {:.4f}, area {:.4f})\n", t_voc, *voc_metrics.map_11point,
             *voc_metrics.map_area);
  fmt::print("total (read + COCO)  {:7.3f} s\n", t_gt + t_read + t_coco);
  if (keep.empty()) {
    std::filesystem::remove(gt_path);
    std::filesystem::remove(dets_path);
  }
  return 0;
}

// Loader throughput for the 416 training pipeline with every augmentation on
// (mixup, distortion, expand, IoU crop, flip, random-interpolation resize,
// normalisation), per worker thread and with 1..N workers, on the synthetic
// shapes data set. A plain executable: it prints figures, it asserts nothing.
//
//   data_loader_bench [--images N] [--batches N] [--max-workers N] [--dataset SPEC]
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>

#include "data/dataset_spec.h"
#include "data/loader.h"
#include "data/shapes_writer.h"

int main(int argc, char** argv) {
  int images = 200, batches = 12, max_workers = 2;
  std::string spec;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--images") images = std::atoi(argv[i + 1]);
    else if (key == "--batches") batches = std::atoi(argv[i + 1]);
    else if (key == "--max-workers") max_workers = std::atoi(argv[i + 1]);
    else if (key == "--dataset") spec = argv[i + 1];
  }
  const auto dir = std::filesystem::temp_directory_path() / "yolo_loader_bench";
  if (spec.empty()) {
    data::ShapesOptions opt;
    opt.out = dir.string();
    opt.format = "voc";
    opt.images = images;
    opt.size = 416;
    std::ostringstream log;
    data::write_shapes_dataset(opt, log);
    spec = "voc:" + (dir / "voc").string() + ":train";
  }
  const data::Dataset ds = data::read_dataset(spec, {});
  std::cout << fmt::format("data set {}: {} images; batch 8 at 416x416, all augmentations on\n", spec, ds.images.size());
  for (int workers = 1; workers <= max_workers; ++workers) {
    data::LoaderConfig cfg;
    cfg.batch_size = 8;
    cfg.workers = workers;
    cfg.augment_config.multiscale.enabled = false;  // the 416 pipeline
    data::Loader loader(ds, cfg);
    loader.start_epoch(0);
    loader.next();  // warm-up: threads started, first batches in flight
    const auto t0 = std::chrono::steady_clock::now();
    const auto before = loader.stats();
    int produced = 0;
    for (int b = 0; b < batches; ++b) {
      auto batch = loader.next();
      if (!batch) {
        loader.start_epoch(b + 1);
        batch = loader.next();
      }
      produced += static_cast<int>(batch->images.size(0));
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto after = loader.stats();
    const double per_thread = (after.images - before.images) / (after.worker_seconds - before.worker_seconds);
    std::cout << fmt::format("workers {}: {:.1f} images/s delivered, {:.1f} images/s per busy worker thread\n", workers,
                             produced / wall, per_thread);
  }
  std::filesystem::remove_all(dir);
  return 0;
}

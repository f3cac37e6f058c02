// COCO instances JSON parse time and memory on a generated file shaped like
// train2017's (118k images, 860k annotations with polygon segmentations,
// 80 categories with non-contiguous ids: about 450 MB at the defaults).
// The file is streamed to disk, so generating it costs no memory; the peak
// resident size is read before and after parsing.
//
//   coco_parse_bench [--images N] [--annotations N] [--keep FILE]
#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>

#include "data/coco_reader.h"

namespace {

long peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;  // Linux reports KiB
}

void generate(const std::string& path, int images, int annotations) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + path);
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::string buf;
  auto flush = [&] {
    std::fwrite(buf.data(), 1, buf.size(), f);
    buf.clear();
  };
  buf += "{\"info\": {\"description\": \"generated\"}, \"images\": [";
  for (int i = 0; i < images; ++i) {
    buf += fmt::format("{}{{\"license\": 3, \"file_name\": \"{:012d}.jpg\", \"coco_url\": "
                       "\"http://images.cocodataset.org/train2017/{:012d}.jpg\", \"height\": 480, \"width\": 640, "
                       "\"date_captured\": \"2013-11-14 11:18:45\", \"id\": {}}}",
                       i ? "," : "", i + 1, i + 1, i + 1);
    if (buf.size() > (1 << 20)) flush();
  }
  buf += "], \"annotations\": [";
  for (int a = 0; a < annotations; ++a) {
    const double x = u(rng) * 500, y = u(rng) * 380, w = 1 + u(rng) * 130, h = 1 + u(rng) * 90;
    buf += fmt::format("{}{{\"segmentation\": [[", a ? "," : "");
    for (int p = 0; p < 50; ++p) buf += fmt::format("{}{:.2f}", p ? "," : "", (p % 2 ? y + u(rng) * h : x + u(rng) * w));
    buf += fmt::format("]], \"area\": {:.4f}, \"iscrowd\": {}, \"image_id\": {}, \"bbox\": [{:.2f},{:.2f},{:.2f},{:.2f}], "
                       "\"category_id\": {}, \"id\": {}}}",
                       w * h * 0.6, a % 100 == 0 ? 1 : 0, 1 + a % images, x, y, w, h, 1 + ((a * 7) % 80) * 90 / 80, 900000 + a);
    if (buf.size() > (1 << 20)) flush();
  }
  buf += "], \"categories\": [";
  for (int c = 0; c < 80; ++c) {
    buf += fmt::format("{}{{\"supercategory\": \"thing\", \"id\": {}, \"name\": \"class{}\"}}", c ? "," : "",
                       1 + c * 90 / 80, c);
  }
  buf += "]}";
  flush();
  std::fclose(f);
}

}  // namespace

int main(int argc, char** argv) {
  int images = 118287, annotations = 860001;
  std::string keep;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--images") images = std::atoi(argv[i + 1]);
    else if (key == "--annotations") annotations = std::atoi(argv[i + 1]);
    else if (key == "--keep") keep = argv[i + 1];
  }
  const std::string path =
      keep.empty() ? (std::filesystem::temp_directory_path() / "yolo_coco_bench.json").string() : keep;
  auto t0 = std::chrono::steady_clock::now();
  generate(path, images, annotations);
  const double gen_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto bytes = std::filesystem::file_size(path);
  std::cout << fmt::format("generated {} ({:.0f} MB, {} images, {} annotations) in {:.1f} s\n", path, bytes / 1e6,
                           images, annotations, gen_s);
  const long rss_before = peak_rss_mb();
  data::ReadOptions options;
  options.check_images = false;  // the images do not exist
  t0 = std::chrono::steady_clock::now();
  const data::Dataset ds = data::read_coco(path, "/nonexistent", options);
  const double parse_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::size_t objects = 0;
  for (const auto& r : ds.images) objects += r.objects.size();
  std::cout << fmt::format("read_coco: {:.2f} s ({:.0f} MB/s), {} images, {} objects, {} classes, {} skipped\n", parse_s,
                           bytes / 1e6 / parse_s, ds.images.size(), objects, ds.classes.size(), ds.skipped.size());
  std::cout << fmt::format("peak resident memory: {} MB before parsing, {} MB after (file {:.0f} MB)\n", rss_before,
                           peak_rss_mb(), bytes / 1e6);
  if (keep.empty()) std::filesystem::remove(path);
  return 0;
}

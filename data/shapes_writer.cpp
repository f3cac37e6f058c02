#include "data/shapes_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "data/image.h"

namespace data {

namespace fs = std::filesystem;

namespace {

struct Rendered {
  int width = 0, height = 0;
  std::vector<Target> targets;
};

const char* const kSplits[3] = {"train", "val", "test"};

void make_dir(const fs::path& p) {
  std::error_code ec;
  fs::create_directories(p, ec);
  if (ec) throw core::IoError(fmt::format("cannot create folder {}: {}", p.string(), ec.message()));
}

// Every format gets the same JPEG bytes; a hard link saves the copies where
// the file system allows it.
void place_copy(const fs::path& first, const fs::path& target) {
  std::error_code ec;
  fs::remove(target, ec);
  fs::create_hard_link(first, target, ec);
  if (ec) {
    fs::copy_file(first, target, fs::copy_options::overwrite_existing, ec);
    if (ec) throw core::IoError(fmt::format("cannot write {}: {}", target.string(), ec.message()));
  }
}

std::string voc_xml(const std::string& file, const Rendered& r, const std::vector<std::string>& classes) {
  std::string x = fmt::format(
      "<annotation>\n  <folder>shapes</folder>\n  <filename>{}</filename>\n"
      "  <size>\n    <width>{}</width>\n    <height>{}</height>\n    <depth>3</depth>\n  </size>\n",
      file, r.width, r.height);
  for (const Target& t : r.targets) {
    x += fmt::format(
        "  <object>\n    <name>{}</name>\n    <difficult>0</difficult>\n    <bndbox>\n"
        "      <xmin>{:g}</xmin>\n      <ymin>{:g}</ymin>\n      <xmax>{:g}</xmax>\n      <ymax>{:g}</ymax>\n"
        "    </bndbox>\n  </object>\n",
        classes[t.label], t.box.x1, t.box.y1, t.box.x2, t.box.y2);
  }
  return x + "</annotation>\n";
}

std::string coco_json(const std::vector<int>& ids, const std::vector<Rendered>& all,
                      const std::vector<std::string>& classes) {
  std::string images, annotations, categories;
  long long ann_id = 1;
  for (const int i : ids) {
    const Rendered& r = all[i];
    images += fmt::format("{}\n    {{\"id\": {}, \"file_name\": \"{:06d}.jpg\", \"width\": {}, \"height\": {}}}",
                          images.empty() ? "" : ",", i + 1, i, r.width, r.height);
    for (const Target& t : r.targets) {
      const float w = t.box.width(), h = t.box.height();
      annotations += fmt::format(
          "{}\n    {{\"id\": {}, \"image_id\": {}, \"category_id\": {}, \"bbox\": [{:g}, {:g}, {:g}, {:g}], "
          "\"area\": {:g}, \"iscrowd\": 0}}",
          annotations.empty() ? "" : ",", ann_id++, i + 1, t.label + 1, t.box.x1, t.box.y1, w, h, w * h);
    }
  }
  for (std::size_t c = 0; c < classes.size(); ++c) {
    categories += fmt::format("{}\n    {{\"id\": {}, \"name\": \"{}\", \"supercategory\": \"shape\"}}",
                              c == 0 ? "" : ",", c + 1, classes[c]);
  }
  return fmt::format("{{\n  \"images\": [{}\n  ],\n  \"annotations\": [{}\n  ],\n  \"categories\": [{}\n  ]\n}}\n", images,
                     annotations, categories);
}

std::string darknet_labels(const Rendered& r) {
  std::string s;
  for (const Target& t : r.targets) {
    s += fmt::format("{} {:.6f} {:.6f} {:.6f} {:.6f}\n", t.label, (t.box.x1 + t.box.x2) / 2 / r.width,
                     (t.box.y1 + t.box.y2) / 2 / r.height, t.box.width() / r.width, t.box.height() / r.height);
  }
  return s;
}

// Which of the three layouts to write, and where each one's images go.
struct Layouts {
  bool voc = false, coco = false, darknet = false;
  std::vector<fs::path> image_dirs;  // the first gets the JPEG, the others copies of it
};

Layouts make_layouts(const ShapesOptions& options, const fs::path& out) {
  Layouts l;
  l.voc = options.format == "voc" || options.format == "all";
  l.coco = options.format == "coco" || options.format == "all";
  l.darknet = options.format == "darknet" || options.format == "all";
  if (!l.voc && !l.coco && !l.darknet) {
    throw core::ConfigError(fmt::format("make-shapes: --format '{}' must be voc, coco, darknet or all", options.format));
  }
  if (options.images < 1) throw core::ConfigError(fmt::format("make-shapes: --images {} must be positive", options.images));
  if (options.size < 64) throw core::ConfigError(fmt::format("make-shapes: --size {} must be at least 64", options.size));
  if (options.out.empty()) throw core::ConfigError("make-shapes: --out is required");
  if (l.voc) {
    make_dir(out / "voc" / "Annotations");
    make_dir(out / "voc" / "ImageSets" / "Main");
    l.image_dirs.push_back(out / "voc" / "JPEGImages");
  }
  if (l.coco) {
    make_dir(out / "coco" / "annotations");
    l.image_dirs.push_back(out / "coco" / "images");
  }
  if (l.darknet) {
    make_dir(out / "darknet" / "labels");
    l.image_dirs.push_back(out / "darknet" / "images");
  }
  for (const auto& d : l.image_dirs) make_dir(d);
  return l;
}

// Renders and encodes every image, in parallel: each depends only on (seed,
// index). The first error stops nothing but is rethrown at the end.
std::vector<Rendered> render_images(const ShapesOptions& options, const std::vector<fs::path>& image_dirs) {
  const int n = options.images;
  std::vector<Rendered> rendered(static_cast<std::size_t>(n));
  std::atomic<int> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  const unsigned threads = std::max(1u, std::min(std::thread::hardware_concurrency(), 8u));
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        try {
          Sample s = render_shapes_image(options, i);
          const std::string file = fmt::format("{:06d}.jpg", i);
          const std::string jpeg = encode_jpeg(s.image, 92);
          write_bytes((image_dirs[0] / file).string(), jpeg);
          for (std::size_t d = 1; d < image_dirs.size(); ++d) place_copy(image_dirs[0] / file, image_dirs[d] / file);
          rendered[i] = {s.image.width, s.image.height, std::move(s.targets)};
        } catch (...) {
          std::lock_guard lock(error_mutex);
          if (!error) error = std::current_exception();
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  return rendered;
}

// The split lists (80/10/10 in index order) and the COCO annotation files.
ShapesSummary write_splits(const Layouts& l, const fs::path& out, const std::vector<Rendered>& rendered,
                           const std::vector<std::string>& classes) {
  const int n = static_cast<int>(rendered.size());
  ShapesSummary summary;
  summary.train = n * 8 / 10;
  summary.val = n / 10;
  summary.test = n - summary.train - summary.val;
  const int bounds[4] = {0, summary.train, summary.train + summary.val, n};
  for (int split = 0; split < 3; ++split) {
    std::vector<int> ids;
    std::string list_voc, list_darknet;
    for (int i = bounds[split]; i < bounds[split + 1]; ++i) {
      ids.push_back(i);
      list_voc += fmt::format("{:06d}\n", i);
      list_darknet += fmt::format("images/{:06d}.jpg\n", i);
    }
    if (l.voc) write_bytes((out / "voc" / "ImageSets" / "Main" / (std::string(kSplits[split]) + ".txt")).string(), list_voc);
    if (l.darknet) write_bytes((out / "darknet" / (std::string(kSplits[split]) + ".txt")).string(), list_darknet);
    if (l.coco) {
      write_bytes((out / "coco" / "annotations" / fmt::format("instances_{}.json", kSplits[split])).string(),
                  coco_json(ids, rendered, classes));
    }
  }
  return summary;
}

}  // namespace

ShapesSummary write_shapes_dataset(const ShapesOptions& options, std::ostream& log) {
  const std::vector<std::string> classes = shape_class_names(options.classes);
  const fs::path out(options.out);
  const Layouts layouts = make_layouts(options, out);
  std::string names;
  for (const auto& c : classes) names += c + "\n";
  write_bytes((out / "classes.txt").string(), names);
  if (layouts.voc) write_bytes((out / "voc" / "classes.txt").string(), names);

  const std::vector<Rendered> rendered = render_images(options, layouts.image_dirs);
  ShapesSummary summary = write_splits(layouts, out, rendered, classes);
  for (std::size_t i = 0; i < rendered.size(); ++i) {
    summary.boxes += static_cast<long long>(rendered[i].targets.size());
    const std::string stem = fmt::format("{:06d}", i);
    if (layouts.voc) {
      write_bytes((out / "voc" / "Annotations" / (stem + ".xml")).string(), voc_xml(stem + ".jpg", rendered[i], classes));
    }
    if (layouts.darknet) write_bytes((out / "darknet" / "labels" / (stem + ".txt")).string(), darknet_labels(rendered[i]));
  }
  log << fmt::format("make-shapes: {} images ({} train, {} val, {} test), {} boxes, {} classes, format {} -> {}\n",
                     options.images, summary.train, summary.val, summary.test, summary.boxes, classes.size(),
                     options.format, options.out);
  return summary;
}

}  // namespace data

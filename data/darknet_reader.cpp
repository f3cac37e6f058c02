#include "data/darknet_reader.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/class_names.h"
#include "data/image.h"
#include "data/record_checks.h"
#include "data/text.h"

namespace data {

namespace fs = std::filesystem;
using core::IoError;

std::string darknet_label_path(const std::string& image_path) {
  fs::path p(image_path);
  fs::path out;
  std::vector<fs::path> parts(p.begin(), p.end());
  // Replace the last images folder, as darknet's find_replace chain does.
  int last = -1;
  for (int i = 0; i + 1 < static_cast<int>(parts.size()); ++i) {
    if (parts[i] == "images" || parts[i] == "JPEGImages") last = i;
  }
  for (int i = 0; i < static_cast<int>(parts.size()); ++i) out /= (i == last ? fs::path("labels") : parts[i]);
  out.replace_extension(".txt");
  return out.string();
}

std::vector<Object> read_darknet_labels(const std::string& label_path, int width, int height, int num_classes) {
  std::vector<Object> objects;
  if (!fs::exists(label_path)) return objects;
  std::istringstream in(core::read_file(label_path));
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    const auto cols = split_whitespace(line);
    if (cols.empty()) continue;
    const std::string where = fmt::format("{}:{}", label_path, line_no);
    if (cols.size() != 5) {
      throw IoError(fmt::format("{}: {} columns, expected 5 (class cx cy w h)", where, cols.size()));
    }
    double v[5];
    for (int i = 0; i < 5; ++i) {
      const auto x = parse_number(cols[i]);
      if (!x) throw IoError(fmt::format("{}: column {} is '{}', not a number", where, i + 1, cols[i]));
      v[i] = *x;
    }
    // Range first: converting a value beyond int's range (1e39) is undefined.
    if (v[0] < 0 || v[0] >= num_classes || v[0] != std::floor(v[0])) {
      throw IoError(fmt::format("{}: class id '{}' is not an integer in [0, {})", where, cols[0], num_classes));
    }
    Object o;
    o.label = static_cast<int>(v[0]);
    o.box = {static_cast<float>((v[1] - v[3] / 2) * width), static_cast<float>((v[2] - v[4] / 2) * height),
             static_cast<float>((v[1] + v[3] / 2) * width), static_cast<float>((v[2] + v[4] / 2) * height)};
    check_box(where, o.box, width, height);
    o.area = o.box.width() * o.box.height();
    objects.push_back(o);
  }
  return objects;
}

std::string darknet_default_names(const std::string& list_path) {
  const fs::path dir = fs::path(list_path).parent_path();
  for (const fs::path& candidate : {dir / "classes.txt", dir.parent_path() / "classes.txt"}) {
    if (fs::exists(candidate)) return candidate.string();
  }
  std::vector<fs::path> names;
  for (const auto& entry : fs::directory_iterator(dir.empty() ? fs::path(".") : dir)) {
    if (entry.path().extension() == ".names") names.push_back(entry.path());
  }
  if (names.size() == 1) return names[0].string();
  throw IoError(fmt::format("{}: no names file given and no classes.txt or single *.names beside it", list_path));
}

Dataset read_darknet(const std::string& list_path, const std::string& names_path, const ReadOptions& options) {
  Dataset ds;
  ds.classes = read_class_names(names_path.empty() ? darknet_default_names(list_path) : names_path);
  const fs::path base = fs::path(list_path).parent_path();
  std::istringstream in(core::read_file(list_path));
  std::string line;
  while (std::getline(in, line)) {
    const std::string entry = trim(line);
    if (entry.empty()) continue;
    ImageRecord r;
    r.path = fs::path(entry).is_absolute() ? entry : (base / entry).string();
    r.annotation = darknet_label_path(r.path);
    r.name = fs::path(r.path).stem().string();
    try {
      // The labels are normalised, so the image size is needed even when
      // images are not checked.
      const ImageSize size = read_image_size(r.path);
      r.width = size.width;
      r.height = size.height;
      r.objects = read_darknet_labels(r.annotation, r.width, r.height, static_cast<int>(ds.classes.size()));
    } catch (const core::Error& e) {
      ds.skipped.push_back({r.path, e.what()});
      continue;
    }
    if (r.objects.empty() && !options.keep_empty_images) continue;
    r.id = static_cast<std::int64_t>(ds.images.size());
    ds.images.push_back(std::move(r));
  }
  return ds;
}

}  // namespace data

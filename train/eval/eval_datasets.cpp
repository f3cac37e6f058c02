#include "train/eval/eval_datasets.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <unordered_set>

#include "core/error.h"
#include "data/class_names.h"
#include "data/dataset_spec.h"
#include "data/text.h"
#include "data/voc_reader.h"

namespace train {

namespace fs = std::filesystem;

VocGroundTruth voc_ground_truth(const data::Dataset& ds) {
  VocGroundTruth gt;
  gt.classes = ds.classes;
  std::unordered_set<std::string> seen;
  for (const data::ImageRecord& r : ds.images) {
    if (!seen.insert(r.name).second) {
      throw core::ConfigError(fmt::format("{}: image id '{}' appears twice (e.g. in two year folders); results "
                                          "files could not tell the two apart", ds.spec, r.name));
    }
    gt.image_names.push_back(r.name);
    auto& objects = gt.objects.emplace_back();
    for (const data::Object& o : r.objects) {
      objects.push_back({o.box.x1, o.box.y1, o.box.x2, o.box.y2, o.label, o.difficult});
    }
  }
  return gt;
}

CocoGroundTruth coco_ground_truth(const data::Dataset& ds) {
  CocoGroundTruth gt;
  gt.category_ids = ds.category_ids;
  gt.category_names = ds.classes;
  if (gt.category_ids.empty()) {
    // Not a COCO file: number the classes 1..C, as a results file would.
    for (std::size_t i = 0; i < ds.classes.size(); ++i) gt.category_ids.push_back(static_cast<std::int64_t>(i) + 1);
  }
  std::int64_t next_id = 1;
  for (const data::ImageRecord& r : ds.images) {
    gt.image_ids.push_back(r.id);
    auto& objects = gt.objects.emplace_back();
    for (const data::Object& o : r.objects) {
      // Ids only need to be non-zero (cocoapi reads id 0 as "no match").
      const std::int64_t id = o.id != 0 ? o.id : next_id++;
      objects.push_back({o.box.x1, o.box.y1, o.box.width(), o.box.height(), o.area, o.crowd, id, o.label});
    }
  }
  return gt;
}

VocEvalSet load_voc_eval_set(const std::string& dir, const std::string& split,
                             const std::vector<std::string>& classes) {
  const auto years = data::voc_year_dirs(dir);
  VocEvalSet set;
  std::vector<std::string> names;
  const fs::path in_dir = fs::path(dir) / "classes.txt", in_year = fs::path(years.front()) / "classes.txt";
  if (fs::exists(in_dir) || fs::exists(in_year)) {
    const std::string file = fs::exists(in_dir) ? in_dir.string() : in_year.string();
    names = data::read_class_names(file);
    set.classes_from = file;
  } else if (!classes.empty()) {
    names = classes;
    set.classes_from = "--classes";
  } else {
    names = data::voc_classes();
    set.classes_from = "the 20 VOC classes";
  }
  std::vector<data::VocPart> parts;
  for (const auto& y : years) parts.push_back({y, data::split_on(split, '+')});
  data::ReadOptions options;
  options.keep_empty_images = true;
  options.check_images = false;  // VOC XML carries the image size
  data::Dataset ds = data::read_voc(parts, names, options);
  ds.spec = fmt::format("voc:{}:{}", dir, split);
  set.gt = voc_ground_truth(ds);
  set.skipped = ds.skipped;
  for (const data::SkippedFile& s : ds.skipped) set.unreadable_images.push_back(fs::path(s.path).stem().string());
  return set;
}

DetectionKeys voc_detection_keys(const VocEvalSet& set) {
  DetectionKeys keys = voc_detection_keys(set.gt);
  keys.unreadable_images = set.unreadable_images;
  return keys;
}

}  // namespace train

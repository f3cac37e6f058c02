#include "data/coco_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "data/coco_json.h"
#include "data/record_checks.h"

namespace data {

using core::IoError;

Dataset read_coco(const std::string& json_path, const std::string& image_dir, const ReadOptions& options) {
  const CocoJson json = read_coco_json(json_path, CocoJsonRules::training);
  Dataset ds;
  for (const CocoJsonCategory& c : json.categories) ds.classes.push_back(c.name);
  ds.category_ids = json.category_ids;

  std::vector<ImageRecord> records(json.images.size());
  for (std::size_t i = 0; i < json.images.size(); ++i) {
    ImageRecord& r = records[i];
    r.id = json.images[i].id;
    r.name = json.images[i].file_name;
    r.width = json.images[i].width;
    r.height = json.images[i].height;
    r.annotation = json_path;
    r.path = (std::filesystem::path(image_dir) / r.name).string();
  }

  for (const CocoJsonAnnotation& a : json.annotations) {
    const auto img = json.image_of.find(a.image_id);
    const auto cat = json.label_of.find(a.category_id);
    if (img == json.image_of.end() || cat == json.label_of.end()) {
      ds.skipped.push_back({json_path, unknown_reference(json, a, json_path)});
      continue;
    }
    ImageRecord& r = records[img->second];
    Object o;
    o.id = a.id;
    o.label = cat->second;
    o.crowd = a.crowd;
    o.box = {static_cast<float>(a.bbox[0]), static_cast<float>(a.bbox[1]), static_cast<float>(a.bbox[0] + a.bbox[2]),
             static_cast<float>(a.bbox[1] + a.bbox[3])};
    // A missing or negative area falls back to the box's.
    o.area = a.has_area && a.area >= 0 ? static_cast<float>(a.area) : static_cast<float>(a.bbox[2] * a.bbox[3]);
    if (!box_is_valid(o.box, r.width, r.height)) {
      try {
        // Formatted only on this path: train2017 has 860k annotations.
        check_box(fmt::format("{}: annotation id {} (image {})", json_path, a.id, a.image_id), o.box, r.width, r.height);
      } catch (const IoError& e) {
        ds.skipped.push_back({json_path, e.what()});
        continue;
      }
    }
    r.objects.push_back(o);
  }

  for (ImageRecord& r : records) {
    const bool has_target = std::any_of(r.objects.begin(), r.objects.end(), [](const Object& o) { return !o.crowd; });
    if (!has_target && !options.keep_empty_images) continue;
    if (options.check_images) {
      try {
        check_image_file(r);
      } catch (const core::Error& e) {
        ds.skipped.push_back({r.path, e.what()});
        continue;
      }
    }
    ds.images.push_back(std::move(r));
  }
  return ds;
}

}  // namespace data

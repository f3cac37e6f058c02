#include "train/eval/coco_ground_truth.h"

#include "core/atomic_file.h"
#include "data/coco_json.h"

namespace train {

CocoGroundTruthFile parse_coco_ground_truth(std::string_view text, const std::string& name) {
  const data::CocoJson json = data::parse_coco_json(text, name, data::CocoJsonRules::cocoapi);
  CocoGroundTruthFile out;
  CocoGroundTruth& gt = out.gt;
  gt.category_ids = json.category_ids;
  for (const data::CocoJsonCategory& c : json.categories) gt.category_names.push_back(c.name);
  for (const data::CocoJsonImage& image : json.images) gt.image_ids.push_back(image.id);
  gt.objects.resize(gt.image_ids.size());
  for (const data::CocoJsonAnnotation& a : json.annotations) {
    const auto img = json.image_of.find(a.image_id);
    const auto cat = json.label_of.find(a.category_id);
    if (img == json.image_of.end() || cat == json.label_of.end()) {
      out.skipped.push_back(data::unknown_reference(json, a, name));
      continue;
    }
    if (!a.has_area) ++out.num_missing_area;
    const CocoObject o{.x = a.bbox[0], .y = a.bbox[1], .w = a.bbox[2], .h = a.bbox[3],
                       .area = a.has_area ? a.area : a.bbox[2] * a.bbox[3],  // cocoapi needs an area: w*h
                       .crowd = a.crowd, .id = a.id, .label = cat->second};
    gt.objects[img->second].push_back(o);
  }
  return out;
}

CocoGroundTruthFile read_coco_ground_truth(const std::string& path) {
  return parse_coco_ground_truth(core::read_file(path), path);
}

}  // namespace train

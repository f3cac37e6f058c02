#include "train/eval/metrics_json.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>


namespace train {

namespace {

using Json = nlohmann::ordered_json;

Json optional_number(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

void add_counts(Json& j, const EvalCounts& counts) {
  j["num_images"] = counts.num_images;
  j["num_detections"] = counts.num_detections;
  j["dropped_detections"] = counts.dropped_detections;
}

}  // namespace

nlohmann::ordered_json voc_metrics_object(const VocMetrics& metrics, const EvalCounts& counts) {
  Json j;
  j["mAP_11point"] = optional_number(metrics.map_11point);
  j["mAP_area"] = optional_number(metrics.map_area);
  Json per_class = Json::object();
  for (const VocClassResult& c : metrics.per_class) {
    per_class[c.name] = {{"ap_11point", optional_number(c.ap_11point)},
                         {"ap_area", optional_number(c.ap_area)},
                         {"npos", c.npos}};
  }
  j["per_class"] = std::move(per_class);
  add_counts(j, counts);
  return j;
}

std::string voc_metrics_json(const VocMetrics& metrics, const EvalCounts& counts) {
  return voc_metrics_object(metrics, counts).dump(2) + "\n";
}

nlohmann::ordered_json coco_metrics_object(const CocoMetrics& metrics, const EvalCounts& counts, bool per_category) {
  Json j;
  for (std::size_t i = 0; i < kCocoStatNames.size(); ++i) j[kCocoStatNames[i]] = metrics.stats[i];
  add_counts(j, counts);
  if (per_category) {
    Json per = Json::object();
    for (const CocoCategoryResult& c : metrics.per_category) {
      // COCO does not promise unique names; a repeated one gets its id appended.
      const std::string key = per.contains(c.name) ? fmt::format("{} (id {})", c.name, c.id) : c.name;
      per[key] = {{"id", c.id}, {"AP", c.ap}, {"AP50", c.ap50}, {"AP75", c.ap75}, {"AR100", c.ar100},
                  {"num_gts", c.num_gts}};
    }
    j["per_category"] = std::move(per);
  }
  return j;
}

std::string coco_metrics_json(const CocoMetrics& metrics, const EvalCounts& counts, bool per_category) {
  return coco_metrics_object(metrics, counts, per_category).dump(2) + "\n";
}

}  // namespace train

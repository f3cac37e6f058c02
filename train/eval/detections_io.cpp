#include "train/eval/detections_io.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <simdjson.h>

#include <cmath>
#include <numeric>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/cocoapi_numbers.h"

namespace train {

namespace od = simdjson::ondemand;
using core::IoError;

namespace {

// Lookup tables built once per file.
struct KeyIndex {
  std::unordered_map<std::string, std::size_t> image_by_name;
  std::unordered_map<std::int64_t, std::size_t> image_by_id;
  std::unordered_set<std::string> unreadable;
  std::unordered_map<std::string, int> label_by_name;
  std::unordered_map<std::int64_t, int> label_by_id;

  explicit KeyIndex(const DetectionKeys& keys) {
    if (keys.naming == ResultsNaming::voc) {
      for (std::size_t i = 0; i < keys.image_names.size(); ++i) image_by_name.emplace(keys.image_names[i], i);
      unreadable.insert(keys.unreadable_images.begin(), keys.unreadable_images.end());
      for (std::size_t i = 0; i < keys.classes.size(); ++i) {
        label_by_name.emplace(keys.classes[i], static_cast<int>(i));
        label_by_id.emplace(static_cast<std::int64_t>(i), static_cast<int>(i));
      }
    } else {
      for (std::size_t i = 0; i < keys.image_ids.size(); ++i) image_by_id.emplace(keys.image_ids[i], i);
      for (std::size_t i = 0; i < keys.category_ids.size(); ++i) label_by_id.emplace(keys.category_ids[i], static_cast<int>(i));
    }
  }
};

// The fields of one element as written; which of them count depends on the naming.
struct RawDetection {
  bool has_image = false, has_category_id = false, has_category = false, has_bbox = false, has_score = false;
  std::string image_name;
  std::int64_t image_id = 0, category_id = 0;
  std::string category;
  double bbox[4] = {0, 0, 0, 0};
  double score = 0;
};

void read_element(od::object obj, ResultsNaming naming, const char*& field, RawDetection& r) {
  for (auto f : obj) {
    const std::string_view key = f.unescaped_key();
    if (key == "image_id") {
      field = "image_id";
      od::value v = f.value();
      if (naming == ResultsNaming::voc) {
        if (v.type() != od::json_type::string) throw IoError("must be a string naming a VOC image (e.g. \"000005\")");
        r.image_name = std::string(std::string_view(v.get_string()));
      } else {
        if (v.type() != od::json_type::number) throw IoError("must be the integer id of a COCO image");
        r.image_id = data::read_cocoapi_integer(v, "an integer");
      }
      r.has_image = true;
    } else if (key == "category_id") {
      field = "category_id";
      od::value v = f.value();
      if (v.type() != od::json_type::number) throw IoError("must be an integer");
      r.category_id = data::read_cocoapi_integer(v, "an integer");
      r.has_category_id = true;
    } else if (key == "category" && naming == ResultsNaming::voc) {
      field = "category";
      od::value v = f.value();
      if (v.type() != od::json_type::string) throw IoError("must be a class name");
      r.category = std::string(std::string_view(v.get_string()));
      r.has_category = true;
    } else if (key == "bbox") {
      field = "bbox";
      od::value v = f.value();
      if (v.type() != od::json_type::array) throw IoError("must be an array [x, y, w, h]");
      std::size_t n = 0;
      for (auto x : v.get_array()) {
        const double d = data::read_finite(x.value());
        if (n < 4) r.bbox[n] = d;
        ++n;
      }
      if (n != 4) throw IoError(fmt::format("has {} numbers, expected 4 (x, y, w, h)", n));
      if (r.bbox[2] < 0 || r.bbox[3] < 0) {
        throw IoError(fmt::format("[{}, {}, {}, {}] has negative size (w and h must be >= 0)", r.bbox[0], r.bbox[1],
                                  r.bbox[2], r.bbox[3]));
      }
      r.has_bbox = true;
    } else if (key == "score") {
      field = "score";
      od::value v = f.value();
      if (v.type() != od::json_type::number) throw IoError("must be a number");
      r.score = data::read_finite(v);
      r.has_score = true;
    }
  }
  field = nullptr;
}

// The detection a record names, in data-set indices; nothing (counted in
// `dropped` by reason) for an unknown category or an image whose annotation
// could not be read. An image not in the data set is an error (IoError,
// with `field` set to the key at fault).
std::optional<Detection> resolve(const RawDetection& r, const KeyIndex& index, const DetectionKeys& keys,
                                 const char*& field, std::map<std::string, std::size_t>& dropped) {
  const bool voc = keys.naming == ResultsNaming::voc;
  Detection d;
  d.x = r.bbox[0];
  d.y = r.bbox[1];
  d.w = r.bbox[2];
  d.h = r.bbox[3];
  d.score = r.score;
  if (voc) {
    const auto img = index.image_by_name.find(r.image_name);
    if (img == index.image_by_name.end()) {
      if (index.unreadable.count(r.image_name)) {
        ++dropped[fmt::format("image \"{}\" (its annotation could not be read)", r.image_name)];
        return std::nullopt;
      }
      field = "image_id";
      throw IoError(fmt::format("image \"{}\" is not in the data set ({} images)", r.image_name, keys.image_names.size()));
    }
    d.image = img->second;
  } else {
    const auto img = index.image_by_id.find(r.image_id);
    if (img == index.image_by_id.end()) {
      field = "image_id";
      throw IoError(fmt::format("image id {} is not in the annotation file ({} images)", r.image_id, keys.image_ids.size()));
    }
    d.image = img->second;
  }
  // Unknown categories are dropped, as cocoapi's catIds filter does.
  if (voc && r.has_category) {
    const auto lab = index.label_by_name.find(r.category);
    if (lab == index.label_by_name.end()) {
      ++dropped[fmt::format("category \"{}\"", r.category)];
      return std::nullopt;
    }
    d.label = lab->second;
  } else {
    const auto lab = index.label_by_id.find(r.category_id);
    if (lab == index.label_by_id.end()) {
      ++dropped[fmt::format("category_id {}", r.category_id)];
      return std::nullopt;
    }
    d.label = lab->second;
  }
  return d;
}

}  // namespace

std::size_t DetectionsFile::num_dropped() const {
  std::size_t n = 0;
  for (const auto& [reason, count] : dropped) n += count;
  return n;
}

DetectionKeys voc_detection_keys(const VocGroundTruth& gt) {
  DetectionKeys keys;
  keys.naming = ResultsNaming::voc;
  keys.image_names = gt.image_names;
  keys.classes = gt.classes;
  return keys;
}

DetectionKeys coco_detection_keys(const CocoGroundTruth& gt) {
  DetectionKeys keys;
  keys.naming = ResultsNaming::coco;
  keys.image_ids = gt.image_ids;
  keys.classes = gt.category_names;
  keys.category_ids = gt.category_ids;
  return keys;
}

DetectionsFile parse_detections(std::string_view json, const std::string& name, const DetectionKeys& keys) {
  const KeyIndex index(keys);
  const bool voc = keys.naming == ResultsNaming::voc;
  DetectionsFile out;
  std::size_t i = 0;
  bool in_array = false;
  const char* field = nullptr;
  auto where = [&] {
    if (!in_array) return std::string("top level");
    return field == nullptr ? fmt::format("[{}]", i) : fmt::format("[{}].{}", i, field);
  };
  try {
    simdjson::padded_string padded(json);
    od::parser parser;
    od::document doc = parser.iterate(padded);
    if (doc.type() != od::json_type::array) throw IoError("must be a JSON array of detections");
    od::array array = doc.get_array();
    in_array = true;
    for (auto element : array) {
      od::value v = element.value();
      if (v.type() != od::json_type::object) throw IoError("must be an object {\"image_id\", \"bbox\", \"score\", ...}");
      RawDetection r;
      read_element(v.get_object(), keys.naming, field, r);
      if (!r.has_image || !r.has_bbox || !r.has_score || !(r.has_category_id || r.has_category)) {
        throw IoError(voc ? "needs \"image_id\", \"category\" (or \"category_id\"), \"bbox\" and \"score\""
                          : "needs \"image_id\", \"category_id\", \"bbox\" and \"score\"");
      }
      ++out.num_read;
      if (const std::optional<Detection> d = resolve(r, index, keys, field, out.dropped)) out.detections.push_back(*d);
      ++i;
    }
    in_array = false;
    // current_location() fails only once the whole input has been consumed.
    const char* rest = nullptr;
    if (doc.current_location().get(rest) == simdjson::SUCCESS) throw IoError("unexpected content after the array");
  } catch (const simdjson::simdjson_error& e) {
    throw IoError(fmt::format("{}: {}: {}", name, where(), e.what()));
  } catch (const IoError& e) {
    throw IoError(fmt::format("{}: {}: {}", name, where(), e.what()));
  }
  return out;
}

DetectionsFile read_detections(const std::string& path, const DetectionKeys& keys) {
  return parse_detections(core::read_file(path), path, keys);
}

std::string format_detections(const std::vector<Detection>& detections, const DetectionKeys& keys) {
  const bool voc = keys.naming == ResultsNaming::voc;
  // Names are JSON-escaped once, not per detection.
  std::vector<std::string> image_keys, class_keys;
  if (voc) {
    for (const auto& n : keys.image_names) image_keys.push_back(nlohmann::json(n).dump());
    for (const auto& c : keys.classes) class_keys.push_back(nlohmann::json(c).dump());
  }
  std::string out = "[";
  out.reserve(detections.size() * 96 + 2);
  for (std::size_t i = 0; i < detections.size(); ++i) {
    const Detection& d = detections[i];
    const auto n_images = voc ? keys.image_names.size() : keys.image_ids.size();
    const auto n_labels = voc ? keys.classes.size() : keys.category_ids.size();
    if (d.image >= n_images || d.label < 0 || static_cast<std::size_t>(d.label) >= n_labels) {
      throw core::ValueError(fmt::format("format_detections: detection {} has image index {} and label {}, but there "
                                         "are {} images and {} classes", i, d.image, d.label, n_images, n_labels));
    }
    out += i == 0 ? "\n" : ",\n";
    if (voc) {
      fmt::format_to(std::back_inserter(out), R"({{"image_id": {}, "category": {}, )", image_keys[d.image],
                     class_keys[static_cast<std::size_t>(d.label)]);
    } else {
      fmt::format_to(std::back_inserter(out), R"({{"image_id": {}, "category_id": {}, )", keys.image_ids[d.image],
                     keys.category_ids[static_cast<std::size_t>(d.label)]);
    }
    // fmt's default for double is the shortest text that reads back exactly.
    fmt::format_to(std::back_inserter(out), R"("bbox": [{}, {}, {}, {}], "score": {}}})", d.x, d.y, d.w, d.h, d.score);
  }
  out += "\n]\n";
  return out;
}

void write_detections(const std::string& path, const std::vector<Detection>& detections, const DetectionKeys& keys) {
  core::write_file_atomic(path, format_detections(detections, keys));
}

}  // namespace train

#include "train/eval/coco_ground_truth.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/atomic_file.h"
#include "core/error.h"

namespace train {

namespace od = simdjson::ondemand;
using core::IoError;

namespace {

struct RawAnnotation {
  CocoObject object;
  std::int64_t image_id = 0, category_id = 0;
  bool has_area = false;
};

struct RawCategory {
  std::int64_t id = 0;
  std::string name;
};

// Where the parser is; formatted only when an error is reported.
struct Cursor {
  const char* section = "";
  std::size_t index = 0;
  const char* field = nullptr;
  std::string str() const {
    if (section[0] == '\0') return "top level";
    return field == nullptr ? fmt::format("{}[{}]", section, index) : fmt::format("{}[{}].{}", section, index, field);
  }
};

// An id as cocoapi's Python sees it: an integer, or a float with an integral
// value (json gives 5.0, and 5.0 == 5 as a dict key).
std::int64_t read_id(od::value v) {
  od::number n = v.get_number();
  if (n.is_int64()) return n.get_int64();
  if (n.is_uint64()) throw IoError("is too large for an id");
  const double d = n.get_double();
  if (d != std::floor(d) || std::fabs(d) > 9.0e15) throw IoError(fmt::format("is {}, not an integer id", d));
  return static_cast<std::int64_t>(d);
}

double read_finite(od::value v) {
  const double d = v.get_double();
  if (!std::isfinite(d)) throw IoError("is not a finite number");
  return d;
}

void read_annotation(od::object obj, Cursor& at, RawAnnotation& a) {
  int required = 0;
  for (auto f : obj) {
    const std::string_view key = f.unescaped_key();
    if (key == "id") {
      at.field = "id";
      a.object.id = read_id(f.value());
      required |= 1;
    } else if (key == "image_id") {
      at.field = "image_id";
      a.image_id = read_id(f.value());
      required |= 2;
    } else if (key == "category_id") {
      at.field = "category_id";
      a.category_id = read_id(f.value());
      required |= 4;
    } else if (key == "bbox") {
      at.field = "bbox";
      double box[4] = {0, 0, 0, 0};
      std::size_t n = 0;
      for (auto v : f.value().get_array()) {
        const double x = read_finite(v.value());
        if (n < 4) box[n] = x;
        ++n;
      }
      if (n != 4) throw IoError(fmt::format("has {} numbers, expected 4 (x, y, w, h)", n));
      a.object.x = box[0];
      a.object.y = box[1];
      a.object.w = box[2];
      a.object.h = box[3];
      required |= 8;
    } else if (key == "area") {
      at.field = "area";
      a.object.area = read_finite(f.value());
      a.has_area = true;
    } else if (key == "iscrowd") {
      at.field = "iscrowd";
      // cocoapi tests truthiness; 0/1 integers and booleans both occur.
      od::value v = f.value();
      if (v.type() == od::json_type::boolean) a.object.crowd = v.get_bool();
      else a.object.crowd = v.get_double() != 0;
    }
  }
  at.field = nullptr;
  if (required != 15) throw IoError("needs \"id\", \"image_id\", \"category_id\" and \"bbox\"");
}

}  // namespace

CocoGroundTruthFile parse_coco_ground_truth(std::string_view json, const std::string& name) {
  std::vector<std::int64_t> image_ids;
  std::vector<RawAnnotation> annotations;
  std::vector<RawCategory> categories;
  bool seen[3] = {false, false, false};
  Cursor at;
  try {
    simdjson::padded_string padded(json);
    od::parser parser;
    od::document doc = parser.iterate(padded);
    for (auto top : doc.get_object()) {
      const std::string_view key = top.unescaped_key();
      at = Cursor{};
      if (key == "images") {
        at.section = "images";
        seen[0] = true;
        for (auto v : top.value().get_array()) {
          bool has_id = false;
          for (auto f : v.get_object()) {
            if (f.unescaped_key() == std::string_view("id")) {
              at.field = "id";
              image_ids.push_back(read_id(f.value()));
              has_id = true;
            }
          }
          at.field = nullptr;
          if (!has_id) throw IoError("has no \"id\"");
          ++at.index;
        }
      } else if (key == "annotations") {
        at.section = "annotations";
        seen[1] = true;
        for (auto v : top.value().get_array()) {
          RawAnnotation a;
          read_annotation(v.get_object(), at, a);
          annotations.push_back(a);
          ++at.index;
        }
      } else if (key == "categories") {
        at.section = "categories";
        seen[2] = true;
        for (auto v : top.value().get_array()) {
          RawCategory c;
          int required = 0;
          for (auto f : v.get_object()) {
            const std::string_view k = f.unescaped_key();
            if (k == "id") {
              at.field = "id";
              c.id = read_id(f.value());
              required |= 1;
            } else if (k == "name") {
              at.field = "name";
              c.name = std::string(std::string_view(f.value().get_string()));
              required |= 2;
            }
          }
          at.field = nullptr;
          if (required != 3) throw IoError("needs \"id\" and \"name\"");
          categories.push_back(std::move(c));
          ++at.index;
        }
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    throw IoError(fmt::format("{}: {}: {}", name, at.str(), e.what()));
  } catch (const IoError& e) {
    throw IoError(fmt::format("{}: {}: {}", name, at.str(), e.what()));
  }
  const char* arrays[3] = {"images", "annotations", "categories"};
  for (int i = 0; i < 3; ++i) {
    if (!seen[i]) throw IoError(fmt::format("{}: no \"{}\" array at the top level", name, arrays[i]));
  }

  CocoGroundTruthFile out;
  CocoGroundTruth& gt = out.gt;
  std::sort(categories.begin(), categories.end(), [](const RawCategory& a, const RawCategory& b) { return a.id < b.id; });
  std::unordered_map<std::int64_t, int> label_of;
  for (const RawCategory& c : categories) {
    if (!label_of.emplace(c.id, static_cast<int>(gt.category_ids.size())).second) {
      throw IoError(fmt::format("{}: category id {} appears twice", name, c.id));
    }
    gt.category_ids.push_back(c.id);
    gt.category_names.push_back(c.name);
  }
  std::unordered_map<std::int64_t, std::size_t> image_of;
  image_of.reserve(image_ids.size());
  for (std::int64_t id : image_ids) {
    if (!image_of.emplace(id, gt.image_ids.size()).second) {
      throw IoError(fmt::format("{}: image id {} appears twice", name, id));
    }
    gt.image_ids.push_back(id);
  }
  gt.objects.resize(gt.image_ids.size());
  for (RawAnnotation& a : annotations) {
    const auto img = image_of.find(a.image_id);
    const auto cat = label_of.find(a.category_id);
    if (img == image_of.end() || cat == label_of.end()) {
      out.skipped.push_back(fmt::format("{}: annotation id {}: {} {} is not in \"{}\"", name, a.object.id,
                                        img == image_of.end() ? "image_id" : "category_id",
                                        img == image_of.end() ? a.image_id : a.category_id,
                                        img == image_of.end() ? "images" : "categories"));
      continue;
    }
    if (!a.has_area) {
      a.object.area = a.object.w * a.object.h;
      ++out.num_missing_area;
    }
    a.object.label = cat->second;
    gt.objects[img->second].push_back(a.object);
  }
  return out;
}

CocoGroundTruthFile read_coco_ground_truth(const std::string& path) {
  return parse_coco_ground_truth(core::read_file(path), path);
}

}  // namespace train

#include "data/coco_json.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>

#include "core/error.h"
#include "data/cocoapi_numbers.h"

namespace data {

namespace od = simdjson::ondemand;
using core::IoError;

namespace {

// Where the parser is, kept as cheap values and only formatted on error.
struct Cursor {
  const char* section = "";
  std::size_t index = 0;
  const char* field = nullptr;
  std::string str() const {
    if (section[0] == '\0') return "top level";
    return field == nullptr ? fmt::format("{}[{}]", section, index) : fmt::format("{}[{}].{}", section, index, field);
  }
};

class Reader {
 public:
  explicit Reader(CocoJsonRules rules) : cocoapi_(rules == CocoJsonRules::cocoapi) {}

  void image(od::object obj, CocoJsonImage& image) {
    bool has_id = false;
    for (auto f : obj) {
      const std::string_view key = f.unescaped_key();
      if (key == "id") {
        at.field = "id";
        image.id = id(f.value());
        has_id = true;
      } else if (cocoapi_) {
        continue;  // cocoapi reads nothing else of an image
      } else if (key == "file_name") {
        at.field = "file_name";
        image.file_name = std::string(std::string_view(f.value().get_string()));
      } else if (key == "width") {
        at.field = "width";
        image.width = static_cast<int>(f.value().get_int64());
      } else if (key == "height") {
        at.field = "height";
        image.height = static_cast<int>(f.value().get_int64());
      }
    }
    at.field = nullptr;
    if (!has_id) throw IoError("has no \"id\"");
  }

  void annotation(od::object obj, CocoJsonAnnotation& a) {
    int required = 0;
    for (auto f : obj) {
      const std::string_view key = f.unescaped_key();
      if (key == "id") {
        at.field = "id";
        a.id = id(f.value());
        required |= 1;
      } else if (key == "image_id") {
        at.field = "image_id";
        a.image_id = id(f.value());
        required |= 2;
      } else if (key == "category_id") {
        at.field = "category_id";
        a.category_id = id(f.value());
        required |= 4;
      } else if (key == "bbox") {
        at.field = "bbox";
        std::size_t n = 0;
        for (auto v : f.value().get_array()) {
          const double x = number(v.value());
          if (n < 4) a.bbox[n] = x;
          ++n;
        }
        if (n != 4) throw IoError(fmt::format("has {} numbers, expected 4 (x, y, w, h)", n));
        required |= 8;
      } else if (key == "area") {
        at.field = "area";
        a.area = number(f.value());
        a.has_area = true;
      } else if (key == "iscrowd") {
        at.field = "iscrowd";
        a.crowd = crowd(f.value());
      }
    }
    at.field = nullptr;
    // The training reader never needed the annotation's own id.
    if (cocoapi_ && required != 15) throw IoError("needs \"id\", \"image_id\", \"category_id\" and \"bbox\"");
    if (!cocoapi_ && (required & 14) != 14) throw IoError("needs \"image_id\", \"category_id\" and \"bbox\"");
  }

  void category(od::object obj, CocoJsonCategory& c) {
    int required = 0;
    for (auto f : obj) {
      const std::string_view key = f.unescaped_key();
      if (key == "id") {
        at.field = "id";
        c.id = id(f.value());
        required |= 1;
      } else if (key == "name") {
        at.field = "name";
        c.name = std::string(std::string_view(f.value().get_string()));
        required |= 2;
      }
    }
    at.field = nullptr;
    if (required != 3) throw IoError("needs \"id\" and \"name\"");
  }

  Cursor at;

 private:
  std::int64_t id(od::value v) const { return cocoapi_ ? read_cocoapi_integer(v, "an integer id") : v.get_int64().value(); }
  double number(od::value v) const { return cocoapi_ ? read_finite(v) : v.get_double().value(); }
  bool crowd(od::value v) const {
    if (!cocoapi_) return v.get_int64().value() != 0;
    // cocoapi tests truthiness; 0/1 integers and booleans both occur.
    if (v.type() == od::json_type::boolean) return v.get_bool();
    return v.get_double() != 0;
  }

  bool cocoapi_;
};

// Categories sorted by id become labels 0..C-1; image ids map to their place.
void index(CocoJson& json, const std::string& name) {
  std::sort(json.categories.begin(), json.categories.end(),
            [](const CocoJsonCategory& a, const CocoJsonCategory& b) { return a.id < b.id; });
  for (const CocoJsonCategory& c : json.categories) {
    if (!json.label_of.emplace(c.id, static_cast<int>(json.category_ids.size())).second) {
      throw IoError(fmt::format("{}: category id {} appears twice", name, c.id));
    }
    json.category_ids.push_back(c.id);
  }
  json.image_of.reserve(json.images.size());
  for (std::size_t i = 0; i < json.images.size(); ++i) {
    if (!json.image_of.emplace(json.images[i].id, i).second) {
      throw IoError(fmt::format("{}: image id {} appears twice", name, json.images[i].id));
    }
  }
}

CocoJson parse(const simdjson::padded_string& text, const std::string& name, CocoJsonRules rules) {
  CocoJson json;
  Reader read(rules);
  Cursor& at = read.at;
  const char* arrays[3] = {"images", "annotations", "categories"};
  bool seen[3] = {false, false, false};
  try {
    od::parser parser;
    od::document doc = parser.iterate(text);
    for (auto top : doc.get_object()) {
      const std::string_view key = top.unescaped_key();
      at = Cursor{};
      const int which = key == arrays[0] ? 0 : key == arrays[1] ? 1 : key == arrays[2] ? 2 : -1;
      if (which < 0) continue;
      at.section = arrays[which];
      seen[which] = true;
      for (od::value v : top.value().get_array()) {
        od::object element = v.get_object();
        if (which == 0) read.image(element, json.images.emplace_back());
        else if (which == 1) read.annotation(element, json.annotations.emplace_back());
        else read.category(element, json.categories.emplace_back());
        ++at.index;
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    throw IoError(fmt::format("{}: {}: {}", name, at.str(), e.what()));
  } catch (const IoError& e) {
    throw IoError(fmt::format("{}: {}: {}", name, at.str(), e.what()));
  }
  for (int i = 0; i < 3; ++i) {
    if (!seen[i]) throw IoError(fmt::format("{}: no \"{}\" array at the top level", name, arrays[i]));
  }
  index(json, name);
  return json;
}

}  // namespace

CocoJson parse_coco_json(std::string_view json, const std::string& name, CocoJsonRules rules) {
  return parse(simdjson::padded_string(json), name, rules);
}

CocoJson read_coco_json(const std::string& path, CocoJsonRules rules) {
  simdjson::padded_string text;
  if (const auto error = simdjson::padded_string::load(path).get(text)) {
    throw IoError(fmt::format("{}: cannot read: {}", path, simdjson::error_message(error)));
  }
  return parse(text, path, rules);
}

std::string unknown_reference(const CocoJson& json, const CocoJsonAnnotation& a, const std::string& name) {
  if (!json.image_of.contains(a.image_id)) {
    return fmt::format("{}: annotation id {}: image_id {} is not in \"images\"", name, a.id, a.image_id);
  }
  if (!json.label_of.contains(a.category_id)) {
    return fmt::format("{}: annotation id {}: category_id {} is not in \"categories\"", name, a.id, a.category_id);
  }
  return "";
}

}  // namespace data

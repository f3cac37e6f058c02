#include "data/coco_reader.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "core/error.h"
#include "data/record_checks.h"

namespace data {

namespace od = simdjson::ondemand;
using core::IoError;

namespace {

struct RawAnnotation {
  std::int64_t id = 0, image_id = 0, category_id = 0;
  double bbox[4] = {0, 0, 0, 0};
  double area = -1;
  bool crowd = false;
};

struct RawCategory {
  std::int64_t id = 0;
  std::string name;
};

// Where the parser is, kept as cheap values and only formatted on error.
struct Cursor {
  const char* section = "";
  std::size_t index = 0;
  const char* field = nullptr;
  std::string str() const {
    if (field == nullptr) return fmt::format("{}[{}]", section, index);
    return fmt::format("{}[{}].{}", section, index, field);
  }
};

void read_image(od::object obj, Cursor& at, ImageRecord& record, bool& has_id) {
  for (auto f : obj) {
    const std::string_view key = f.unescaped_key();
    if (key == "id") {
      at.field = "id";
      record.id = f.value().get_int64();
      has_id = true;
    } else if (key == "file_name") {
      at.field = "file_name";
      record.name = std::string(std::string_view(f.value().get_string()));
    } else if (key == "width") {
      at.field = "width";
      record.width = static_cast<int>(f.value().get_int64());
    } else if (key == "height") {
      at.field = "height";
      record.height = static_cast<int>(f.value().get_int64());
    }
  }
  at.field = nullptr;
}

void read_annotation(od::object obj, Cursor& at, RawAnnotation& a, int& required) {
  for (auto f : obj) {
    const std::string_view key = f.unescaped_key();
    if (key == "id") {
      at.field = "id";
      a.id = f.value().get_int64();
    } else if (key == "image_id") {
      at.field = "image_id";
      a.image_id = f.value().get_int64();
      required |= 1;
    } else if (key == "category_id") {
      at.field = "category_id";
      a.category_id = f.value().get_int64();
      required |= 2;
    } else if (key == "bbox") {
      at.field = "bbox";
      std::size_t n = 0;
      for (double v : f.value().get_array()) {
        if (n < 4) a.bbox[n] = v;
        ++n;
      }
      if (n != 4) throw IoError(fmt::format("has {} numbers, expected 4 (x, y, w, h)", n));
      required |= 4;
    } else if (key == "area") {
      at.field = "area";
      a.area = f.value().get_double();
    } else if (key == "iscrowd") {
      at.field = "iscrowd";
      a.crowd = f.value().get_int64() != 0;
    }
  }
  at.field = nullptr;
}

void read_category(od::object obj, Cursor& at, RawCategory& c, int& required) {
  for (auto f : obj) {
    const std::string_view key = f.unescaped_key();
    if (key == "id") {
      at.field = "id";
      c.id = f.value().get_int64();
      required |= 1;
    } else if (key == "name") {
      at.field = "name";
      c.name = std::string(std::string_view(f.value().get_string()));
      required |= 2;
    }
  }
  at.field = nullptr;
}

struct RawFile {
  std::vector<ImageRecord> images;
  std::vector<RawAnnotation> annotations;
  std::vector<RawCategory> categories;
};

RawFile parse(const std::string& path) {
  RawFile raw;
  simdjson::padded_string json;
  if (const auto error = simdjson::padded_string::load(path).get(json)) {
    throw IoError(fmt::format("{}: cannot read: {}", path, simdjson::error_message(error)));
  }
  od::parser parser;
  Cursor at;
  bool seen[3] = {false, false, false};
  try {
    od::document doc = parser.iterate(json);
    for (auto top : doc.get_object()) {
      const std::string_view key = top.unescaped_key();
      at = Cursor{};
      if (key == "images") {
        at.section = "images";
        seen[0] = true;
        for (od::value v : top.value().get_array()) {
          ImageRecord r;
          bool has_id = false;
          read_image(v.get_object(), at, r, has_id);
          if (!has_id) throw IoError("has no \"id\"");
          raw.images.push_back(std::move(r));
          ++at.index;
        }
      } else if (key == "annotations") {
        at.section = "annotations";
        seen[1] = true;
        for (od::value v : top.value().get_array()) {
          RawAnnotation a;
          int required = 0;
          read_annotation(v.get_object(), at, a, required);
          if (required != 7) throw IoError("needs \"image_id\", \"category_id\" and \"bbox\"");
          raw.annotations.push_back(a);
          ++at.index;
        }
      } else if (key == "categories") {
        at.section = "categories";
        seen[2] = true;
        for (od::value v : top.value().get_array()) {
          RawCategory c;
          int required = 0;
          read_category(v.get_object(), at, c, required);
          if (required != 3) throw IoError("needs \"id\" and \"name\"");
          raw.categories.push_back(std::move(c));
          ++at.index;
        }
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    const std::string where = at.section[0] == '\0' ? std::string("top level") : at.str();
    throw IoError(fmt::format("{}: {}: {}", path, where, e.what()));
  } catch (const IoError& e) {
    throw IoError(fmt::format("{}: {}: {}", path, at.str(), e.what()));
  }
  const char* names[3] = {"images", "annotations", "categories"};
  for (int i = 0; i < 3; ++i) {
    if (!seen[i]) throw IoError(fmt::format("{}: no \"{}\" array at the top level", path, names[i]));
  }
  return raw;
}

}  // namespace

Dataset read_coco(const std::string& json_path, const std::string& image_dir, const ReadOptions& options) {
  RawFile raw = parse(json_path);
  Dataset ds;

  std::sort(raw.categories.begin(), raw.categories.end(),
            [](const RawCategory& a, const RawCategory& b) { return a.id < b.id; });
  std::unordered_map<std::int64_t, int> label_of;
  for (const RawCategory& c : raw.categories) {
    if (!label_of.emplace(c.id, static_cast<int>(ds.classes.size())).second) {
      throw IoError(fmt::format("{}: category id {} appears twice", json_path, c.id));
    }
    ds.classes.push_back(c.name);
    ds.category_ids.push_back(c.id);
  }

  std::unordered_map<std::int64_t, std::size_t> image_of;
  image_of.reserve(raw.images.size());
  for (std::size_t i = 0; i < raw.images.size(); ++i) {
    ImageRecord& r = raw.images[i];
    if (!image_of.emplace(r.id, i).second) throw IoError(fmt::format("{}: image id {} appears twice", json_path, r.id));
    r.annotation = json_path;
    r.path = (std::filesystem::path(image_dir) / r.name).string();
  }

  for (const RawAnnotation& a : raw.annotations) {
    const auto img = image_of.find(a.image_id);
    const auto cat = label_of.find(a.category_id);
    // Formatted only on the error paths: train2017 has 860k annotations.
    const auto where = [&] { return fmt::format("{}: annotation id {}", json_path, a.id); };
    if (img == image_of.end()) {
      ds.skipped.push_back({json_path, fmt::format("{}: image_id {} is not in \"images\"", where(), a.image_id)});
      continue;
    }
    if (cat == label_of.end()) {
      ds.skipped.push_back({json_path, fmt::format("{}: category_id {} is not in \"categories\"", where(), a.category_id)});
      continue;
    }
    ImageRecord& r = raw.images[img->second];
    Object o;
    o.id = a.id;
    o.label = cat->second;
    o.crowd = a.crowd;
    o.box = {static_cast<float>(a.bbox[0]), static_cast<float>(a.bbox[1]), static_cast<float>(a.bbox[0] + a.bbox[2]),
             static_cast<float>(a.bbox[1] + a.bbox[3])};
    o.area = a.area >= 0 ? static_cast<float>(a.area) : static_cast<float>(a.bbox[2] * a.bbox[3]);
    if (!box_is_valid(o.box, r.width, r.height)) {
      try {
        check_box(fmt::format("{} (image {})", where(), a.image_id), o.box, r.width, r.height);
      } catch (const IoError& e) {
        ds.skipped.push_back({json_path, e.what()});
        continue;
      }
    }
    r.objects.push_back(o);
  }

  for (ImageRecord& r : raw.images) {
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

#include "data/dataset_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "data/coco_reader.h"
#include "data/darknet_reader.h"
#include "data/text.h"
#include "data/voc_reader.h"

namespace data {

namespace fs = std::filesystem;

namespace {

Dataset read_voc_spec(const DatasetSpec& spec, const ReadOptions& options, const std::string& default_split) {
  const auto years = voc_year_dirs(spec.path);
  std::string split = spec.extra.empty() ? default_split : spec.extra;
  if (split.empty()) {
    const bool all_trainval = std::all_of(years.begin(), years.end(), [](const std::string& y) {
      return fs::exists(fs::path(y) / "ImageSets" / "Main" / "trainval.txt");
    });
    split = all_trainval ? "trainval" : "train";
  }
  std::vector<VocPart> parts;
  for (const auto& y : years) parts.push_back({y, split_on(split, '+')});
  // classes.txt in the named folder wins, then in the first year folder.
  const std::string classes_dir = fs::exists(fs::path(spec.path) / "classes.txt") ? spec.path : years.front();
  return read_voc(parts, voc_class_names(classes_dir), options);
}

std::string coco_default_image_dir(const std::string& json_path) {
  const fs::path json(json_path);
  const fs::path root = json.parent_path().parent_path();
  const std::string stem = json.stem().string();
  const std::string prefix = "instances_";
  if (stem.rfind(prefix, 0) == 0) {
    const fs::path named = root / stem.substr(prefix.size());
    if (fs::is_directory(named)) return named.string();
  }
  if (fs::is_directory(root / "images")) return (root / "images").string();
  return json.parent_path().string();
}

}  // namespace

std::vector<std::string> voc_year_dirs(const std::string& dir) {
  if (fs::exists(fs::path(dir) / "Annotations")) return {dir};
  std::vector<std::string> years;
  if (fs::is_directory(dir)) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().filename().string().rfind("VOC", 0) == 0 && fs::exists(entry.path() / "Annotations")) {
        years.push_back(entry.path().string());
      }
    }
  }
  std::sort(years.begin(), years.end());
  if (years.empty()) {
    throw core::IoError(fmt::format("{}: neither a VOC year folder (with Annotations/) nor a VOCdevkit folder "
                                    "holding such folders", dir));
  }
  return years;
}


DatasetSpec parse_dataset_spec(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    throw core::ConfigError(fmt::format(
        "dataset '{}': expected voc:DIR[:SPLIT], coco:ANNOTATIONS.json[:IMAGE_DIR] or darknet:LIST[:NAMES]", text));
  }
  const std::string kind = text.substr(0, colon);
  const auto fields = split_on(text.substr(colon + 1), ':');
  DatasetSpec spec;
  if (kind == "voc") spec.format = DatasetFormat::voc;
  else if (kind == "coco") spec.format = DatasetFormat::coco;
  else if (kind == "darknet") spec.format = DatasetFormat::darknet;
  else throw core::ConfigError(fmt::format("dataset '{}': unknown format '{}' (voc, coco or darknet)", text, kind));
  if (fields.size() > 2 || fields[0].empty()) {
    throw core::ConfigError(fmt::format("dataset '{}': expected {}:PATH[:{}]", text, kind,
                                        kind == "voc" ? "SPLIT" : kind == "coco" ? "IMAGE_DIR" : "NAMES"));
  }
  spec.path = fields[0];
  if (fields.size() == 2) spec.extra = fields[1];
  return spec;
}

Dataset read_dataset(const std::string& text, const ReadOptions& options, const std::string& voc_default_split) {
  const DatasetSpec spec = parse_dataset_spec(text);
  Dataset ds;
  switch (spec.format) {
    case DatasetFormat::voc: ds = read_voc_spec(spec, options, voc_default_split); break;
    case DatasetFormat::coco:
      ds = read_coco(spec.path, spec.extra.empty() ? coco_default_image_dir(spec.path) : spec.extra, options);
      break;
    case DatasetFormat::darknet: ds = read_darknet(spec.path, spec.extra, options); break;
  }
  ds.spec = text;
  return ds;
}

}  // namespace data

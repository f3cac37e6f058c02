#include "data/voc_reader.h"

#include <fmt/format.h>
#include <pugixml.hpp>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/class_names.h"
#include "data/record_checks.h"
#include "data/text.h"

namespace data {

namespace fs = std::filesystem;
using core::IoError;

namespace {

// The text of a required child element as a number, with the element's path
// in the message when it is absent or not a number.
double required_number(const std::string& file, const pugi::xml_node& parent, const char* parent_name,
                       const char* child) {
  const pugi::xml_node node = parent.child(child);
  if (!node) throw IoError(fmt::format("{}: <{}> has no <{}>", file, parent_name, child));
  const auto value = parse_number(node.child_value());
  if (!value) {
    throw IoError(fmt::format("{}: <{}><{}> is '{}', not a number", file, parent_name, child, node.child_value()));
  }
  return *value;
}

// Larger sides, and box coordinates further out than this, are not images.
constexpr double kMaxSide = 1 << 20;

// A box coordinate, checked before it becomes a float (outside float's range
// the conversion is undefined).
float box_coordinate(const std::string& file, const pugi::xml_node& bndbox, const char* child) {
  const double v = required_number(file, bndbox, "bndbox", child);
  if (!(std::abs(v) <= kMaxSide)) {
    throw IoError(fmt::format("{}: <bndbox><{}> is {}, outside any image", file, child, v));
  }
  return static_cast<float>(v);
}

std::vector<std::string> read_image_set(const std::string& path) {
  std::istringstream in(core::read_file(path));
  std::vector<std::string> ids;
  std::string line;
  while (std::getline(in, line)) {
    // Per-class image sets carry a second column (1 / -1 / 0); the id is first.
    const auto tokens = split_whitespace(line);
    if (!tokens.empty()) ids.push_back(tokens[0]);
  }
  return ids;
}

}  // namespace

ImageRecord read_voc_annotation(const std::string& xml_path, const std::string& image_dir,
                                const std::vector<std::string>& classes) {
  const std::string text = core::read_file(xml_path);
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(text.data(), text.size());
  if (!parsed) {
    throw IoError(fmt::format("{}: XML is not well formed at byte {}: {}", xml_path, parsed.offset,
                              parsed.description()));
  }
  const pugi::xml_node root = doc.child("annotation");
  if (!root) throw IoError(fmt::format("{}: no <annotation> root element", xml_path));
  const pugi::xml_node size = root.child("size");
  if (!size) throw IoError(fmt::format("{}: <annotation> has no <size>", xml_path));

  ImageRecord record;
  record.annotation = xml_path;
  record.name = fs::path(xml_path).stem().string();
  // Checked as doubles: converting a value outside int's range is undefined.
  const double width = required_number(xml_path, size, "size", "width");
  const double height = required_number(xml_path, size, "size", "height");
  if (!(width >= 1 && width <= kMaxSide && height >= 1 && height <= kMaxSide)) {
    throw IoError(fmt::format("{}: <size> is {}x{}, not a positive size of at most {} pixels a side", xml_path,
                              width, height, kMaxSide));
  }
  record.width = static_cast<int>(width);
  record.height = static_cast<int>(height);
  const std::string filename = trim(root.child_value("filename"));
  record.path = (fs::path(image_dir) / (filename.empty() ? record.name + ".jpg" : filename)).string();

  int index = 0;
  for (const pugi::xml_node obj : root.children("object")) {
    ++index;
    const std::string where = fmt::format("{}: object {}", xml_path, index);
    const std::string name = trim(obj.child_value("name"));
    if (name.empty()) throw IoError(fmt::format("{} has no <name>", where));
    const int label = find_class(classes, name);
    if (label < 0) throw IoError(fmt::format("{}: unknown class name '{}' ({} classes known)", where, name, classes.size()));
    const pugi::xml_node bndbox = obj.child("bndbox");
    if (!bndbox) throw IoError(fmt::format("{} ('{}') has no <bndbox>", where, name));
    Object o;
    o.label = label;
    o.box.x1 = box_coordinate(where, bndbox, "xmin");
    o.box.y1 = box_coordinate(where, bndbox, "ymin");
    o.box.x2 = box_coordinate(where, bndbox, "xmax");
    o.box.y2 = box_coordinate(where, bndbox, "ymax");
    check_box(where, o.box, record.width, record.height);
    if (const pugi::xml_node difficult = obj.child("difficult")) {
      const auto flag = parse_number(difficult.child_value());
      if (!flag) throw IoError(fmt::format("{}: <difficult> is '{}', not 0 or 1", where, difficult.child_value()));
      o.difficult = *flag != 0;
    }
    o.area = o.box.width() * o.box.height();
    record.objects.push_back(o);
  }
  return record;
}

std::vector<std::string> voc_class_names(const std::string& dir) {
  const fs::path file = fs::path(dir) / "classes.txt";
  if (fs::exists(file)) return read_class_names(file.string());
  return voc_classes();
}

Dataset read_voc(const std::vector<VocPart>& parts, const std::vector<std::string>& classes,
                 const ReadOptions& options) {
  Dataset ds;
  ds.classes = classes;
  for (const VocPart& part : parts) {
    const fs::path dir(part.dir);
    for (const std::string& split : part.splits) {
      const fs::path list = dir / "ImageSets" / "Main" / (split + ".txt");
      if (!fs::exists(list)) {
        throw IoError(fmt::format("{}: image set '{}' does not exist (looked for {})", part.dir, split, list.string()));
      }
      for (const std::string& id : read_image_set(list.string())) {
        const std::string xml = (dir / "Annotations" / (id + ".xml")).string();
        try {
          ImageRecord record = read_voc_annotation(xml, (dir / "JPEGImages").string(), classes);
          if (options.check_images) check_image_file(record);
          record.id = static_cast<std::int64_t>(ds.images.size());
          if (record.objects.empty() && !options.keep_empty_images) continue;
          ds.images.push_back(std::move(record));
        } catch (const core::Error& e) {
          ds.skipped.push_back({xml, e.what()});
        }
      }
    }
  }
  return ds;
}

}  // namespace data

#include "data/class_names.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/text.h"

namespace data {

const std::vector<std::string>& voc_classes() {
  static const std::vector<std::string> names = {
      "aeroplane", "bicycle", "bird",  "boat",      "bottle", "bus",         "car",
      "cat",       "chair",   "cow",   "diningtable", "dog",  "horse",       "motorbike",
      "person",    "pottedplant", "sheep", "sofa",  "train",  "tvmonitor"};
  return names;
}

std::vector<std::string> read_class_names(const std::string& path) {
  std::istringstream in(core::read_file(path));
  std::vector<std::string> names;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    const std::string name = trim(line);
    if (name.empty()) continue;
    if (find_class(names, name) >= 0) {
      throw core::IoError(fmt::format("{}:{}: class name '{}' appears twice", path, line_no, name));
    }
    names.push_back(name);
  }
  if (names.empty()) throw core::IoError(fmt::format("{}: no class names in the file", path));
  return names;
}

int find_class(const std::vector<std::string>& classes, const std::string& name) {
  const auto it = std::find(classes.begin(), classes.end(), name);
  return it == classes.end() ? -1 : static_cast<int>(it - classes.begin());
}

}  // namespace data

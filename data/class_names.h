// Class name lists: the 20 PASCAL VOC classes and one-name-per-line files
// (VOC's optional classes.txt, Darknet's .names).
#pragma once

#include <string>
#include <vector>

namespace data {

// aeroplane ... tvmonitor, in the devkit's order (label i is the i-th name).
const std::vector<std::string>& voc_classes();

// One name per line; surrounding whitespace and blank lines are ignored.
// Throws core::IoError naming the file and line for a duplicate name, or when
// the file is missing or holds no name.
std::vector<std::string> read_class_names(const std::string& path);

// Index of name in classes, or -1.
int find_class(const std::vector<std::string>& classes, const std::string& name);

}  // namespace data

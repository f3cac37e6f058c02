// PASCAL VOC: a VOCdevkit-style folder (Annotations/*.xml, JPEGImages/,
// ImageSets/Main/<split>.txt), parsed with pugixml.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"

namespace data {

// One year folder (the one holding Annotations/) and the image-set names to
// read from it ("trainval", or several).
struct VocPart {
  std::string dir;
  std::vector<std::string> splits;
};

// Parses one annotation file. Image path: <image_dir>/<filename> (or
// <stem>.jpg when the XML has no <filename>). Throws core::IoError naming the
// file and the problem: not well formed, a missing or non-numeric field, a
// class not in `classes`, a box with negative size or outside the image.
ImageRecord read_voc_annotation(const std::string& xml_path, const std::string& image_dir,
                                const std::vector<std::string>& classes);

// Reads every listed image of every part. Bad annotations and images are
// recorded in Dataset::skipped and left out; a missing image-set file or an
// unreadable class list throws core::IoError.
Dataset read_voc(const std::vector<VocPart>& parts, const std::vector<std::string>& classes,
                 const ReadOptions& options);

// Class names for a VOC folder: <dir>/classes.txt when present, else the 20
// VOC classes.
std::vector<std::string> voc_class_names(const std::string& dir);

}  // namespace data

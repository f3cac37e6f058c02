// Darknet: a list file of image paths, one `labels/<stem>.txt` per image
// (lines of `class cx cy w h`, normalised to the image) and a names file.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"

namespace data {

// Darknet's rule: the last "images" (or "JPEGImages") folder in the path
// becomes "labels" and the extension becomes ".txt".
std::string darknet_label_path(const std::string& image_path);

// Parses one label file for an image of the given size. Throws
// core::IoError naming the file and line for a wrong column count, a
// non-numeric value, a class id outside [0, num_classes), a box with
// negative size or outside the image. A missing file means no boxes.
std::vector<Object> read_darknet_labels(const std::string& label_path, int width, int height, int num_classes);

// Relative image paths in the list are taken from the list file's folder.
// Names default to classes.txt beside the list (or one level up), else the
// only *.names file beside it. Bad entries are recorded in Dataset::skipped.
Dataset read_darknet(const std::string& list_path, const std::string& names_path, const ReadOptions& options);

// The names file read_darknet uses when names_path is empty; throws
// core::IoError when there is none.
std::string darknet_default_names(const std::string& list_path);

}  // namespace data

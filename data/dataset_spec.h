// Data sets named on the command line:
//   voc:DIR[:SPLIT]                DIR is a year folder (holding Annotations/)
//                                  or a VOCdevkit folder whose VOC* year folders
//                                  are all read; SPLIT may join image sets
//                                  with '+' ("train+val")
//   coco:ANNOTATIONS.json[:IMAGE_DIR]
//   darknet:LIST[:NAMES]
#pragma once

#include <string>

#include "data/dataset.h"

namespace data {

enum class DatasetFormat { voc, coco, darknet };

struct DatasetSpec {
  DatasetFormat format = DatasetFormat::voc;
  std::string path;   // DIR, ANNOTATIONS.json or LIST
  std::string extra;  // SPLIT, IMAGE_DIR or NAMES; empty when not given
};

// Throws core::ConfigError quoting the spec when it does not fit the forms above.
DatasetSpec parse_dataset_spec(const std::string& text);

// The year folders a `voc:DIR` spec reads: DIR itself when it holds
// Annotations/, else its VOC* children that do, sorted. Throws core::IoError
// naming DIR when there are none.
std::vector<std::string> voc_year_dirs(const std::string& dir);

// Reads the data set. voc_default_split is used when a VOC spec names no
// split; empty means "trainval" where every year has it, else "train".
// COCO's image folder defaults to the one named after the annotation file
// (annotations/instances_train2017.json -> train2017/), else images/ beside
// annotations/.
Dataset read_dataset(const std::string& spec, const ReadOptions& options, const std::string& voc_default_split = "");

}  // namespace data

// Ground truth for the evaluators from the project's data sets: the adapter
// between data/ (readers, data::Dataset) and the scoring code, which keeps
// its own double-precision structs so it does not depend on how training
// stores boxes.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"
#include "train/eval/coco_eval.h"
#include "train/eval/detections_io.h"
#include "train/eval/voc_eval.h"

namespace train {

// Boxes, labels and difficult flags of a VOC-style data set. Throws
// core::ConfigError when two images share a name (results could not tell
// them apart).
VocGroundTruth voc_ground_truth(const data::Dataset& ds);

// Boxes, crowd flags, areas and ids of a COCO data set read by
// data::read_coco (float boxes; annotations it skipped are missing). For
// scoring a COCO annotation file exactly as cocoapi does, use
// read_coco_ground_truth instead.
CocoGroundTruth coco_ground_truth(const data::Dataset& ds);

// A VOC split ready for scoring, with what could not be read.
struct VocEvalSet {
  VocGroundTruth gt;
  std::vector<data::SkippedFile> skipped;     // annotation files left out, with the reason
  std::vector<std::string> unreadable_images; // their image ids
  std::string classes_from;                   // where the class names came from, for the report
};

// Reads the annotations of DIR (a year folder holding Annotations/, or a
// VOCdevkit folder whose VOC* year folders are all read) for `split`
// ("test", or image sets joined with '+'); images need not exist. Class
// names: DIR/classes.txt when present, else `classes` when not empty, else
// the 20 VOC classes. An unreadable annotation is recorded and skipped; a
// missing folder or image-set file throws core::IoError.
VocEvalSet load_voc_eval_set(const std::string& dir, const std::string& split, const std::vector<std::string>& classes);

// Results-file keys for a VOC set, including its unreadable images.
DetectionKeys voc_detection_keys(const VocEvalSet& set);

}  // namespace train

// Detections files in COCO's results format (docs/evaluation.md,
// 'Results files'): one JSON array of
//   {"image_id": ..., "category_id": ..., "bbox": [x, y, w, h], "score": ...}
// with boxes in original-image pixels. COCO sets name images and categories
// by the annotation file's ids; VOC sets name images by file id ("000005")
// and classes by name in "category" (or by 0-based index in "category_id").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "train/eval/coco_eval.h"
#include "train/eval/detection.h"
#include "train/eval/voc_eval.h"

namespace train {

enum class ResultsNaming { coco, voc };

// How results name images and classes, built from the ground truth.
struct DetectionKeys {
  ResultsNaming naming = ResultsNaming::coco;
  std::vector<std::string> image_names;     // VOC: image index -> file id
  std::vector<std::int64_t> image_ids;      // COCO: image index -> image id
  std::vector<std::string> classes;         // label -> name
  std::vector<std::int64_t> category_ids;   // COCO: label -> category id
  // VOC: images of the split whose annotation could not be read. Their
  // detections are dropped and counted rather than rejected as unknown.
  std::vector<std::string> unreadable_images;
};

DetectionKeys voc_detection_keys(const VocGroundTruth& gt);
DetectionKeys coco_detection_keys(const CocoGroundTruth& gt);

struct DetectionsFile {
  std::vector<Detection> detections;  // in file order
  std::size_t num_read = 0;           // elements in the file, dropped ones included
  // Dropped detections by reason ("category_id 91", "category \"zebra\"", ...).
  std::map<std::string, std::size_t> dropped;
  std::size_t num_dropped() const;
};

// Reads a results file. Detections whose category is unknown are dropped and
// counted in `dropped`. Throws core::IoError naming the file, the element
// ("[17].bbox") and the problem when the file is not JSON, is not an array of
// objects, holds a field of the wrong type or a non-finite number, lacks a
// required field, has a box of negative width or height, or names an image
// that is not in the ground truth.
DetectionsFile read_detections(const std::string& path, const DetectionKeys& keys);

// The same from JSON text; `name` stands for the file in messages.
DetectionsFile parse_detections(std::string_view json, const std::string& name, const DetectionKeys& keys);

// Writes detections as a results file (numbers in shortest round-trip form,
// so reading the file back gives the same doubles). Written atomically;
// throws core::IoError naming the path.
std::string format_detections(const std::vector<Detection>& detections, const DetectionKeys& keys);
void write_detections(const std::string& path, const std::vector<Detection>& detections, const DetectionKeys& keys);

}  // namespace train

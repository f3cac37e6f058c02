// The in-memory form of a detection data set, whatever file format it came
// from: one record per image with its boxes in pixels, labels and flags.
// Readers (voc_reader.h, coco_reader.h, darknet_reader.h) fill it; the
// loader, the statistics and the evaluator read it. No pixels live here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace data {

// Corner box in image pixels, continuous coordinates (x2 > x1 for a valid
// box). VOC's xmin..xmax and COCO's x..x+w are stored unchanged, so the
// evaluator can apply each format's own pixel convention.
struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  float width() const { return x2 - x1; }
  float height() const { return y2 - y1; }
};

struct Object {
  Box box;
  int label = 0;           // contiguous class index into Dataset::classes
  bool difficult = false;  // VOC: excluded from training by default, kept for evaluation
  bool crowd = false;      // COCO iscrowd: never a training target, kept for evaluation
  float area = 0;          // COCO's `area` field (segment area); box area elsewhere
  std::int64_t id = 0;     // COCO annotation id; 0 elsewhere
};

struct ImageRecord {
  std::string path;        // image file
  std::string annotation;  // file the boxes came from (XML, JSON or label .txt)
  std::int64_t id = 0;     // COCO image id; position in the list elsewhere
  std::string name;        // VOC image id / file stem: what results files name
  int width = 0, height = 0;
  std::vector<Object> objects;
};

// A file (or one annotation in a JSON file) left out while reading, and why.
struct SkippedFile {
  std::string path;
  std::string reason;
};

struct Dataset {
  std::string spec;                          // as given on the command line
  std::vector<std::string> classes;          // label -> name
  std::vector<std::int64_t> category_ids;    // label -> COCO category id (COCO only)
  std::vector<ImageRecord> images;
  std::vector<SkippedFile> skipped;
};

// Options shared by every reader.
struct ReadOptions {
  bool keep_empty_images = true;  // images without (usable) boxes
  bool check_images = true;       // each image must exist, be non-empty and have a readable header
};

}  // namespace data

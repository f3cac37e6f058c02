// `yolo detect --weights W [--cfg C | --config Y] (--image IMG | --images DIR|LIST | --video IN)
//              [--thresh 0.5] [--nms bounded|darknet] [--nms-iou 0.45] [--pre-nms-top-k 1000]
//              [--max-dets 100] [--names FILE] (--out OUT.png | --out-dir D | --out OUT.mp4)
//              [--json OUT.json] [--size S] [--batch B] [--every N]`
// Runs a detector on images in batches and draws its boxes: Darknet's
// letterbox (or the model's stretch), decoding, class-wise NMS (bounded by
// default, Darknet's do_nms_sort with --nms darknet; docs/nms.md), and the
// best --max-dets class probabilities above --thresh. Pictures are PNGs with
// each box in its class colour and "name score". --json writes COCO results records
// {"image_id": file stem, "category": name, "bbox": [x, y, w, h], "score"}
// in original-image pixels. --cfg is optional when W is a native checkpoint.
// --video runs the same detector on a video's frames (detect_video.h).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "data/image.h"
#include "models/detect/nms.h"

namespace yolo {

struct DetectArgs {
  std::string weights;   // Darknet .weights or a native checkpoint
  std::string cfg;       // Darknet .cfg (needed with Darknet .weights)
  std::string config;    // training config (YAML)
  std::string image;     // one image
  std::string images;    // a folder of images or a list file (one path per line)
  float thresh = 0.5f;
  // bounded | darknet; a number is taken as the NMS IoU (the older form of --nms-iou).
  std::string nms = "bounded";
  float nms_iou = 0.45f;
  int pre_nms_top_k = 1000;  // bounded NMS: candidates per class; 0 = all
  int max_dets = 100;        // per image; 0 = all
  std::string names;     // one class name per line; overrides the checkpoint's names
  std::string out;       // OUT.png, with --image only
  std::string out_dir;   // one PNG per image, named after the image's stem
  std::string json;      // results file
  int size = 0;          // network input; 0 = the model's own
  int batch = 8;         // images per forward pass
  std::string video;     // a video file (any container and codec FFmpeg reads); --out is then a video
  int every = 1;         // with --video: run on every N-th frame only
};

// Throws core::ConfigError for missing or conflicting flags and whatever the
// model, image and file code throw (core::IoError naming the file).
void run_detect_command(const DetectArgs& args, std::ostream& out, std::ostream& err);

// Draws detections as every `yolo detect` output shows them, the PNGs and
// the video frames alike: each box in its class colour, labelled "name
// score", the best boxes on top.
void draw_detections(data::Image& image, const std::vector<models::ImageDetection>& dets,
                     const std::vector<std::string>& names);

}  // namespace yolo

// Test-time non-maximum suppression and the last step to scored boxes in
// original-image pixels: the bounded NMS used by default (at most
// pre_nms_top_k candidates per class in, max_dets detections out; docs/nms.md)
// and Darknet's do_nms_sort (docs/darknet_format.md, 'NMS'), kept for
// comparisons. Both are class-wise: a box loses only the class
// probabilities that a better box of the same class overlaps, so it may
// survive in another class.
#pragma once

#include <string>
#include <vector>

#include "models/detect/decode.h"

namespace models {

// IoU of two centre/size boxes (Darknet's box_iou); 0 when they do not
// overlap or the union is empty.
float box_iou(const DecodedBox& a, const DecodedBox& b);

// do_nms_sort: drops boxes whose objectness is 0, then for each class visits
// the boxes by that class's probability, highest first (ties keep decode
// order), and zeroes the class probability of every later box whose IoU with
// a box still holding it is above iou_thresh.
void nms_sort(std::vector<DecodedBox>& boxes, float iou_thresh);

// One detection in original-image pixels, corners clipped to the image.
struct ImageDetection {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  int label = 0;
  float score = 0;  // the class probability: objectness * sigmoid(class)
};

// One ImageDetection per (box, class) whose probability is above thresh,
// boxes being fractions of the image (after correction), scaled to
// image_width x image_height. Sorted by score, highest first (ties keep box
// then class order); at most max_dets when max_dets > 0.
std::vector<ImageDetection> to_image_detections(const std::vector<DecodedBox>& boxes, int image_width,
                                                int image_height, float thresh, int max_dets = 0);

enum class NmsMethod { bounded, darknet };
// "bounded" or "darknet"; throws core::ConfigError naming the value otherwise.
NmsMethod parse_nms_method(const std::string& name);

struct NmsOptions {
  float iou = 0.45f;         // a box overlapping a kept box of its class by more than this loses the class
  int pre_nms_top_k = 1000;  // candidates per class (best scores) that enter suppression; 0 = all
  int max_dets = 100;        // detections per image (best scores); 0 = all
};

// Bounded class-wise NMS straight to detections: per class, the (box,
// class) pairs with probability above thresh, at most pre_nms_top_k of them
// by score, are sorted once (ties keep box order) and visited best first;
// one is kept unless it overlaps an already kept box of its class by more
// than iou. A class stops once it has max_dets kept, since no later one
// could reach the image's best max_dets. Classes run in parallel when there
// are enough candidates to pay for it. With pre_nms_top_k = max_dets = 0
// the result equals nms_sort followed by to_image_detections.
std::vector<ImageDetection> bounded_nms(const std::vector<DecodedBox>& boxes, int image_width, int image_height,
                                        float thresh, const NmsOptions& options);

}  // namespace models

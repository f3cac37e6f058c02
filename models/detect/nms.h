// Darknet's test-time non-maximum suppression (do_nms_sort, darknet_compat.md
// section 5) and the last step to scored boxes in original-image pixels.
// Suppression is class-wise: a box loses only the class probabilities that
// a better box of the same class overlaps, so it may survive in another
// class.
#pragma once

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

}  // namespace models

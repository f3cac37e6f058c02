// A 1/16-width built-in YOLOv3 at 64x64: the smallest model the train tests use.
#pragma once

#include "models/model_file.h"
#include "models/yolov3.h"

namespace train::testing {

inline models::Model tiny_yolov3(int classes, std::uint64_t init_seed) {
  models::YoloV3Options o;
  o.num_classes = classes;
  o.width = 1.0 / 16;
  o.input_size = 64;
  const models::GeneratedNetwork g = models::yolov3(o);
  models::ModelMeta meta;
  meta.input_size = 64;
  return models::make_model(g.def, g.names, meta, {.init_seed = init_seed});
}

}  // namespace train::testing

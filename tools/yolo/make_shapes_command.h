// `yolo make-shapes --out DIR [--format voc|coco|darknet|all] [--images N]
// [--classes K] [--size S] [--seed N]`: writes the synthetic data set.
#pragma once

#include <ostream>

#include "data/shapes.h"

namespace yolo {

void run_make_shapes_command(const data::ShapesOptions& options, std::ostream& out);

}  // namespace yolo

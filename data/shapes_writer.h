// Writes the synthetic shapes data set in the real formats (the layout is a
// contract, see `yolo make-shapes`):
//   DIR/classes.txt
//   DIR/voc/{classes.txt, Annotations/, JPEGImages/, ImageSets/Main/{train,val,test}.txt}
//   DIR/coco/{images/, annotations/instances_{train,val,test}.json}
//   DIR/darknet/{images/, labels/, train.txt, val.txt, test.txt}
// Boxes are the same pixels in every format (VOC xmin..xmax = COCO x..x+w).
#pragma once

#include <ostream>

#include "data/shapes.h"

namespace data {

struct ShapesSummary {
  int train = 0, val = 0, test = 0;
  long long boxes = 0;
};

// Throws core::ConfigError for bad options and core::IoError naming the file
// that could not be written. Progress lines go to `log`.
ShapesSummary write_shapes_dataset(const ShapesOptions& options, std::ostream& log);

}  // namespace data

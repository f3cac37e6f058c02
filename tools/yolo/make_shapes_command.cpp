#include "tools/yolo/make_shapes_command.h"

#include "data/shapes_writer.h"

namespace yolo {

void run_make_shapes_command(const data::ShapesOptions& options, std::ostream& out) {
  data::write_shapes_dataset(options, out);
}

}  // namespace yolo

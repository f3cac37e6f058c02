// `yolo data --dataset SPEC [--preview OUT.png [--config X.yml] [--mosaic P]]`:
// data set statistics, and a grid of augmented training samples drawn with
// their boxes and scores, augmented as a training config would.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace yolo {

struct DataArgs {
  std::string dataset;   // voc:DIR[:SPLIT] | coco:ANNOTATIONS.json[:IMAGE_DIR] | darknet:LIST[:NAMES]
  std::string preview;   // PNG to write; empty: statistics only
  int size = 416;        // input size for the histogram and a fixed-size preview
  int count = 16;        // preview tiles
  bool multiscale = false;
  bool no_augment = false;
  int workers = 2;
  std::uint64_t seed = 0;
  std::string config;    // a training config: preview with its augmentations (else the defaults)
  float mosaic = -1;     // data.augment.mosaic.prob for the preview (< 0: the config's or the default)
};

// Throws core::Error subclasses naming the data set or file at fault.
void run_data_command(const DataArgs& args, std::ostream& out);

}  // namespace yolo

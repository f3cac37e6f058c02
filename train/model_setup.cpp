#include "train/model_setup.h"

#include <fmt/format.h>

#include <filesystem>
#include <ostream>

#include "data/dataset_spec.h"
#include "data/shapes_writer.h"
#include "models/cfg_reader.h"
#include "models/yolov3.h"

namespace train {

data::Dataset load_train_dataset(const TrainConfig& config, const std::string& spec, DataRole role, std::ostream& out) {
  const ShapesConfig& s = config.data.shapes;
  namespace fs = std::filesystem;
  if (s.generate && !fs::exists(fs::path(config.data.cache_dir) / "classes.txt")) {
    out << fmt::format("generating the synthetic shapes data set into {} ({} images, seed {})\n",
                       config.data.cache_dir, s.images, s.seed);
    data::ShapesOptions o;
    o.out = config.data.cache_dir;
    o.images = s.images;
    o.classes = s.classes;
    o.size = s.size;
    o.seed = s.seed;
    data::write_shapes_dataset(o, out);
  }
  // An empty default split lets the reader pick trainval or train.
  return data::read_dataset(spec, data::ReadOptions{}, role == DataRole::val ? "val" : "");
}

void init_objectness_bias(const models::Model& model, double bias) {
  if (bias == 0) return;
  for (const auto& [head, conv] : model.network->head_output_convs()) {
    float* b = conv.biases.mutable_data<float>();
    for (int a = 0; a < static_cast<int>(head.mask.size()); ++a) b[head.objectness_channel(a)] = static_cast<float>(bias);
  }
}

models::Model build_model(const TrainConfig& c, const std::vector<std::string>& class_names, std::ostream* log) {
  models::ModelMeta meta;
  meta.class_names = class_names;
  meta.bn_style = models::parse_bn_style(c.model.bn_style);
  meta.resize = c.input.resize;
  meta.mean_std = c.input.mean_std;
  meta.mean = c.input.mean;
  meta.std = c.input.std;
  meta.input_size = c.model.input_size;
  const models::NetworkOptions options{meta.bn_style, c.model.bn_momentum, 1e-5, c.train.seed};
  if (!c.model.cfg.empty()) {
    models::NetworkDef def = models::read_network_cfg(c.model.cfg);
    // A cfg written for another data set (yolov3.cfg's 80 classes) trains on
    // this one's classes, as editing its [yolo] classes and the filters of
    // the convolutions before them would.
    const int cfg_classes = models::yolo_class_count(def);
    const int classes = static_cast<int>(class_names.size());
    if (classes > 0 && cfg_classes > 0 && cfg_classes != classes) {
      def = models::with_class_count(def, classes);
      if (log) *log << fmt::format("model.cfg {}: [yolo] classes {} -> {} (the data set's), output convs resized\n",
                                   c.model.cfg, cfg_classes, classes);
    }
    models::Model m = models::make_model(def, {}, meta, options);
    init_objectness_bias(m, c.model.objectness_bias);
    return m;
  }
  models::YoloV3Options o;
  o.num_classes = static_cast<int>(class_names.size());
  o.anchors = c.model.anchors;
  o.masks = c.model.masks;
  o.input_size = c.model.input_size;
  o.width = c.model.width;
  o.ignore_thresh = static_cast<float>(c.model.ignore_thresh);
  models::GeneratedNetwork g = models::yolov3(o);
  models::Model m = models::make_model(g.def, g.names, meta, options);
  init_objectness_bias(m, c.model.objectness_bias);
  return m;
}

std::int64_t count_parameters(const models::Model& model) {
  std::int64_t n = 0;
  for (const auto& [name, p] : model.network->named_parameters()) n += p.numel();
  return n;
}

}  // namespace train

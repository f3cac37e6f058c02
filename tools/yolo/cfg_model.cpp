#include "tools/yolo/cfg_model.h"

#include <fmt/format.h>

#include <variant>

#include "core/error.h"
#include "models/cfg_reader.h"

namespace yolo {

models::Model model_from_cfg(const std::string& cfg_path) {
  const models::NetworkDef def = models::read_network_cfg(cfg_path);
  models::ModelMeta meta;
  meta.bn_style = models::BnStyle::darknet;
  meta.input_size = def.net.width;
  models::Model model = models::make_model(def, {}, meta);
  model.network->set_training(false);
  return model;
}

void check_input_size(const models::NetworkDef& def, int height, int width, const std::string& what) {
  if (height <= 0 || width <= 0) {
    throw core::ConfigError(fmt::format("{}: input size {}x{} (HxW) must be positive", what, height, width));
  }
  bool has_yolo = false;
  for (const auto& l : def.layers) has_yolo = has_yolo || std::holds_alternative<models::YoloLayer>(l.spec);
  if (has_yolo && (height % 32 != 0 || width % 32 != 0)) {
    throw core::ConfigError(fmt::format(
        "{}: input size {}x{} (HxW) is not a multiple of 32, which {}'s routes and shortcuts need", what, height,
        width, def.source));
  }
}

}  // namespace yolo

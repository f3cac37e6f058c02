#include "models/model_file.h"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "models/cfg_reader.h"
#include "models/cfg_writer.h"
#include "models/darknet_weights.h"

namespace models {

namespace {

using nlohmann::json;

std::string meta_json(const Model& model, const std::string& extra_json) {
  const ModelMeta& m = model.meta;
  json j;
  j["format"] = "yolo-cpu model";
  j["class_names"] = m.class_names;
  j["bn_style"] = bn_style_name(m.bn_style);
  j["resize"] = m.resize;
  j["mean_std"] = m.mean_std;
  j["mean"] = m.mean;
  j["std"] = m.std;
  j["input_size"] = m.input_size;
  j["layer_names"] = model.layer_names;
  j["network_cfg"] = network_def_to_cfg(model.network->def());
  j["extra"] = extra_json.empty() ? json::object() : json::parse(extra_json);
  return j.dump();
}

}  // namespace

Model make_model(const NetworkDef& def, std::vector<std::string> layer_names, ModelMeta meta, NetworkOptions options) {
  options.bn_style = meta.bn_style;
  Model m;
  m.network = std::make_unique<DarknetNetwork>(def, options, layer_names);
  m.meta = std::move(meta);
  m.layer_names = std::move(layer_names);
  return m;
}

void save_model_checkpoint(const std::string& path, const Model& model,
                           const std::vector<std::pair<std::string, core::Tensor>>& extra,
                           const std::string& extra_json) {
  Checkpoint c;
  c.metadata = meta_json(model, extra_json);
  c.tensors = model.network->state();
  for (const auto& e : extra) c.tensors.push_back(e);
  save_checkpoint(path, c);
}

void restore_state(const Model& model, const Checkpoint& ckpt) {
  for (const auto& [name, t] : model.network->state()) {
    const core::Tensor& src = ckpt.get(name);
    if (src.shape() != t.shape() || src.dtype() != t.dtype()) {
      throw core::IoError(fmt::format("checkpoint {}: tensor '{}' is {}, the model expects {}", ckpt.source, name,
                                      src.describe(), t.describe()));
    }
    t.copy_(src);
  }
}

namespace {

// A run that kept a moving average of its weights evaluated with it, so
// inference takes those too (the live weights stay for resuming).
void use_moving_average(const Model& model, const Checkpoint& ckpt) {
  std::map<std::string, const core::Tensor*> by_name;
  for (const auto& [name, t] : ckpt.tensors) by_name[name] = &t;
  for (const auto& [name, p] : model.network->named_parameters()) {
    auto it = by_name.find("ema." + name);
    if (it == by_name.end()) continue;
    if (it->second->shape() != p.shape() || it->second->dtype() != p.dtype()) {
      throw core::IoError(fmt::format("checkpoint {}: tensor 'ema.{}' is {}, the model expects {}", ckpt.source, name,
                                      it->second->describe(), p.describe()));
    }
    p.copy_(*it->second);
  }
}

}  // namespace

LoadedCheckpoint load_model_checkpoint(const std::string& path) {
  LoadedCheckpoint out;
  out.file = load_checkpoint(path);
  json j;
  try {
    j = json::parse(out.file.metadata);
    ModelMeta m;
    m.class_names = j.at("class_names").get<std::vector<std::string>>();
    m.bn_style = parse_bn_style(j.at("bn_style").get<std::string>());
    m.resize = j.at("resize").get<std::string>();
    m.mean_std = j.at("mean_std").get<bool>();
    m.mean = j.at("mean").get<std::array<float, 3>>();
    m.std = j.at("std").get<std::array<float, 3>>();
    m.input_size = j.at("input_size").get<int>();
    const NetworkDef def =
        cfg_to_network_def(parse_cfg_text(j.at("network_cfg").get<std::string>(), path + " (embedded network)"));
    out.model = make_model(def, j.at("layer_names").get<std::vector<std::string>>(), m);
    out.extra_json = j.at("extra").dump();
  } catch (const json::exception& e) {
    throw core::IoError(fmt::format("checkpoint {}: malformed metadata: {}", path, e.what()));
  } catch (const core::ValueError& e) {
    throw core::IoError(fmt::format("checkpoint {}: malformed metadata: {}", path, e.what()));
  }
  restore_state(out.model, out.file);
  use_moving_average(out.model, out.file);
  return out;
}

WeightsLoadSummary load_weights_into(const Model& model, const std::string& path) {
  const std::string bytes = core::read_file(path);
  WeightsLoadSummary s;
  if (is_checkpoint(bytes)) {
    s.format = "checkpoint";
    const Checkpoint ckpt = parse_checkpoint(bytes, path);
    restore_state(model, ckpt);
    use_moving_average(model, ckpt);
    return s;
  }
  s.format = "darknet";
  const auto report = parse_darknet_weights(bytes, path, model.network->darknet_conv_tensors());
  s.layers_filled = report.layers_filled;
  s.conv_layers = report.conv_layers;
  return s;
}

}  // namespace models

#include "models/pretrained.h"

#include <fmt/format.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"

namespace models {

namespace {

// The file's tensor called `name`, or nullptr.
using FileLookup = std::function<const core::Tensor*(const std::string& name)>;

struct Match {
  core::Tensor target;
  const core::Tensor* source;
};

// Pairs every model tensor with the file's tensor of the same name and
// shape, and counts both sides; copies nothing yet.
std::vector<Match> match_tensors(const Model& model, const FileLookup& lookup, PretrainedLoad& out) {
  std::set<std::string> parameter_names;
  for (const auto& [name, p] : model.network->named_parameters()) parameter_names.insert(name);
  std::vector<Match> matches;
  for (const auto& [name, t] : model.network->state()) {
    const bool is_parameter = parameter_names.count(name) > 0;
    if (is_parameter) out.model_parameters += t.numel();
    const core::Tensor* source = lookup(name);
    if (source != nullptr && source->shape() == t.shape() && source->dtype() == t.dtype()) {
      matches.push_back({t, source});
      ++out.loaded_tensors;
      if (is_parameter) out.loaded_parameters += t.numel();
    } else {
      out.skipped.push_back({name, t.shape(), source ? std::optional<core::Shape>(source->shape()) : std::nullopt});
    }
  }
  return matches;
}

void check_share(const PretrainedLoad& load) {
  if (load.loaded_tensors > 0 && load.loaded_share() >= kMinPretrainedShare) return;
  std::string first_skipped;
  for (std::size_t i = 0; i < load.skipped.size() && i < 3; ++i) {
    const SkippedTensor& s = load.skipped[i];
    first_skipped += fmt::format("{}'{}' model {} file {}", i ? ", " : "", s.name, core::shape_str(s.model_shape),
                                 s.file_shape ? core::shape_str(*s.file_shape) : "absent");
  }
  throw core::IoError(fmt::format(
      "pretrain_weights {}: only {} of the model's {} parameters ({:.1f}%) match the file by name and shape, under "
      "the {:.0f}% a fine-tune needs; it was trained for another network (model.width, model.cfg?). First "
      "mismatches: {}",
      load.path, load.loaded_parameters, load.model_parameters, 100.0 * load.loaded_share(), 100.0 * kMinPretrainedShare,
      first_skipped));
}

PretrainedLoad load_checkpoint_matching(const Model& model, const std::string& bytes, const std::string& path) {
  const Checkpoint file = parse_checkpoint(bytes, path);
  PretrainedLoad out;
  out.path = path;
  out.format = "checkpoint";
  try {
    const auto meta = nlohmann::json::parse(file.metadata);
    out.file_class_names = meta.value("class_names", std::vector<std::string>{});
  } catch (const nlohmann::json::exception& e) {
    throw core::IoError(fmt::format("checkpoint {}: malformed metadata: {}", path, e.what()));
  }
  out.file_classes = static_cast<int>(out.file_class_names.size());
  std::map<std::string, const core::Tensor*> by_name;
  for (const auto& [name, t] : file.tensors) by_name[name] = &t;
  // The moving average, when the run kept one, is what it evaluated.
  const FileLookup lookup = [&](const std::string& name) -> const core::Tensor* {
    for (const std::string& key : {"ema." + name, name}) {
      if (auto it = by_name.find(key); it != by_name.end()) return it->second;
    }
    return nullptr;
  };
  const std::vector<Match> matches = match_tensors(model, lookup, out);
  check_share(out);
  for (const Match& m : matches) m.target.copy_(*m.source);
  return out;
}

// The class count whose network takes exactly `payload` bytes of weights,
// when one does: every head's output conv grows by len(mask) filters per
// class, each filter its inputs x kernel weights and a bias.
std::optional<int> classes_for_payload(const DarknetNetwork& network, std::size_t payload) {
  std::size_t model_bytes = 0;
  for (const auto& layer : network.darknet_conv_tensors()) model_bytes += darknet_layer_bytes(layer);
  const int model_classes = yolo_class_count(network.def());
  std::size_t per_class = 0;
  for (const auto& head : network.head_output_convs()) {
    const auto& w = head.conv.weights;
    const std::size_t filter_bytes = static_cast<std::size_t>(w.numel() / w.size(0) + 1) * sizeof(float);
    per_class += head.head.mask.size() * filter_bytes;
  }
  const std::size_t classless = model_bytes - per_class * static_cast<std::size_t>(model_classes);
  if (per_class == 0 || payload <= classless || (payload - classless) % per_class != 0) return std::nullopt;
  return static_cast<int>((payload - classless) / per_class);
}

PretrainedLoad load_darknet_matching(const Model& model, const std::string& bytes, const std::string& path) {
  PretrainedLoad out;
  out.path = path;
  out.format = "darknet";
  WeightsHeader header;
  const std::size_t payload = bytes.size() - read_darknet_header(bytes, path, header);
  // The file is read into a network of its own (the model's, or the model's
  // at the file's class count), so nothing in the model changes before the
  // share is known.
  NetworkDef def = model.network->def();
  const std::optional<int> classes = classes_for_payload(*model.network, payload);
  if (classes) def = with_class_count(def, *classes);
  out.file_classes = classes.value_or(0);
  const DarknetNetwork source(def, model.network->options(), model.layer_names);
  const std::vector<DarknetConvTensors> layers = source.darknet_conv_tensors();
  const WeightsLoadReport report = parse_darknet_weights(bytes, path, layers);
  std::set<const void*> in_file;  // storage of the layers the file filled
  for (int i = 0; i < report.layers_filled; ++i) {
    const DarknetConvTensors& l = layers[static_cast<std::size_t>(i)];
    for (const core::Tensor& t : {l.biases, l.scales, l.rolling_mean, l.rolling_var, l.weights}) {
      if (t.defined()) in_file.insert(t.raw_data());
    }
  }
  std::map<std::string, core::Tensor> by_name;
  for (const auto& [name, t] : source.state()) {
    if (in_file.count(t.raw_data())) by_name.emplace(name, t);
  }
  const FileLookup lookup = [&](const std::string& name) -> const core::Tensor* {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : &it->second;
  };
  const std::vector<Match> matches = match_tensors(model, lookup, out);
  check_share(out);
  for (const Match& m : matches) m.target.copy_(*m.source);
  return out;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < 8; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > 8) s += fmt::format(", ... ({} in all)", names.size());
  return s;
}

}  // namespace

PretrainedLoad load_pretrained(const Model& model, const std::string& path) {
  const std::string bytes = core::read_file(path);
  return is_checkpoint(bytes) ? load_checkpoint_matching(model, bytes, path)
                              : load_darknet_matching(model, bytes, path);
}

std::string describe_pretrained_load(const PretrainedLoad& load, const std::vector<std::string>& model_class_names) {
  std::string s = fmt::format("pretrain_weights {} ({}", load.path, load.format);
  if (!load.file_class_names.empty()) {
    s += fmt::format(", trained for {} classes: {}", load.file_class_names.size(), join_names(load.file_class_names));
  } else if (load.file_classes > 0) {
    s += fmt::format(", trained for {} classes", load.file_classes);
  }
  s += fmt::format(")\n  loaded {} tensors: {} of {} parameters ({:.1f}%)\n", load.loaded_tensors,
                   load.loaded_parameters, load.model_parameters, 100.0 * load.loaded_share());
  if (!load.skipped.empty()) {
    s += fmt::format("  skipped {} tensors, initialised as a fresh model's:\n", load.skipped.size());
    std::size_t width = 6;
    for (const SkippedTensor& t : load.skipped) width = std::max(width, t.name.size());
    s += fmt::format("    {:<{}}  {:<18}  {}\n", "tensor", width, "model", "file");
    for (const SkippedTensor& t : load.skipped) {
      s += fmt::format("    {:<{}}  {:<18}  {}\n", t.name, width, core::shape_str(t.model_shape),
                       t.file_shape ? core::shape_str(*t.file_shape) : "(not in the file)");
    }
  }
  s += fmt::format("  classes of this run (the data set's): {}\n", join_names(model_class_names));
  return s;
}

}  // namespace models

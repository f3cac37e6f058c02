#include "models/cfg_reader.h"

#include <fmt/format.h>

#include <charconv>
#include <set>

#include "core/error.h"

namespace models {

namespace {

using core::ConfigError;

// Anchors one [yolo] section may declare: Darknet's own cfgs use 9; the
// bound keeps a typo from sizing gigabytes.
constexpr int kMaxAnchors = 1024;

// Keys Darknet accepts in every layer section; they steer its own training
// tricks (freezing, partial loading) and carry no meaning for the forward pass.
const std::set<std::string> kCommonLayerKeys = {"dontload", "dontloadscales", "numload", "dontsave", "stopbackward",
                                                "onlyforward", "truth", "smooth", "learning_rate"};

// [net] keys Darknet defines (docs/darknet_format.md, '[net]') that this project reads or
// accepts without effect on the network.
const std::set<std::string> kNetKeys = {
    "batch", "subdivisions", "width", "height", "channels", "momentum", "decay", "angle", "saturation", "exposure",
    "hue", "aspect", "min_crop", "max_crop", "learning_rate", "burn_in", "power", "max_batches", "policy", "steps",
    "scales", "step", "scale", "gamma", "random", "adam", "B1", "B2", "eps", "max_crop", "min_crop", "inputs",
    "time_steps", "notruth", "center", "label_smooth_eps", "mean", "std"};

// Reads typed values out of one section, remembering which keys were read so
// that anything left over can be reported as unknown.
class SectionReader {
 public:
  SectionReader(const std::string& path, const CfgSection& s, int index) : path_(path), s_(s), index_(index) {
    std::set<std::string> seen;
    for (const auto& e : s_.entries) {
      if (!seen.insert(e.key).second) fail(e, fmt::format("key '{}' is given twice", e.key));
    }
  }

  const CfgEntry* find(const std::string& key) {
    used_.insert(key);
    for (const auto& e : s_.entries) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }

  int get_int(const std::string& key, int def) {
    const CfgEntry* e = find(key);
    return e ? parse_int(*e, e->value) : def;
  }

  int require_int(const std::string& key) {
    const CfgEntry* e = find(key);
    if (!e) fail_section(fmt::format("required key '{}' is missing", key));
    return parse_int(*e, e->value);
  }

  float get_float(const std::string& key, float def) {
    const CfgEntry* e = find(key);
    return e ? static_cast<float>(parse_float(*e, e->value)) : def;
  }

  double get_double(const std::string& key, double def) {
    const CfgEntry* e = find(key);
    return e ? parse_float(*e, e->value) : def;
  }

  std::vector<int> get_int_list(const std::string& key, bool required) {
    const CfgEntry* e = find(key);
    if (!e) {
      if (required) fail_section(fmt::format("required key '{}' is missing", key));
      return {};
    }
    std::vector<int> out;
    for (const auto& part : split(*e)) out.push_back(parse_int(*e, part));
    return out;
  }

  std::vector<float> get_float_list(const std::string& key) {
    const CfgEntry* e = find(key);
    std::vector<float> out;
    if (!e) return out;
    for (const auto& part : split(*e)) out.push_back(static_cast<float>(parse_float(*e, part)));
    return out;
  }

  Activation get_activation(Activation def) {
    const CfgEntry* e = find("activation");
    if (!e) return def;
    if (e->value == "linear") return Activation::linear;
    if (e->value == "leaky") return Activation::leaky;
    if (e->value == "logistic") return Activation::logistic;
    if (e->value == "relu") return Activation::relu;
    fail(*e, fmt::format("unsupported activation '{}' (supported: linear, leaky, logistic, relu)", e->value));
  }

  // Throws on the first key that no getter asked for.
  void reject_unknown(const std::set<std::string>& also_allowed) {
    for (const auto& e : s_.entries) {
      if (!used_.count(e.key) && !also_allowed.count(e.key)) fail(e, fmt::format("unknown key '{}'", e.key));
    }
  }

  [[noreturn]] void fail(const CfgEntry& e, const std::string& why) const {
    throw ConfigError(fmt::format("{}:{}: [{}] (layer {}): {}", path_, e.line, s_.name, index_, why));
  }
  [[noreturn]] void fail_section(const std::string& why) const {
    throw ConfigError(fmt::format("{}:{}: [{}] (layer {}): {}", path_, s_.line, s_.name, index_, why));
  }

 private:
  int parse_int(const CfgEntry& e, const std::string& text) const {
    int v = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() || text.empty()) {
      fail(e, fmt::format("key '{}': '{}' is not an integer", e.key, text));
    }
    return v;
  }

  double parse_float(const CfgEntry& e, std::string text) const {
    // Darknet writes values such as ".5"; from_chars accepts them as is.
    double v = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() || text.empty()) {
      fail(e, fmt::format("key '{}': '{}' is not a number", e.key, text));
    }
    return v;
  }

  std::vector<std::string> split(const CfgEntry& e) const {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= e.value.size()) {
      const auto comma = e.value.find(',', start);
      const auto end = comma == std::string::npos ? e.value.size() : comma;
      if (end == start) fail(e, fmt::format("key '{}': empty item in list '{}'", e.key, e.value));
      parts.push_back(e.value.substr(start, end - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return parts;
  }

  const std::string& path_;
  const CfgSection& s_;
  int index_;
  std::set<std::string> used_;
};

// Resolves a Darknet layer reference: negative values are relative to the
// current layer, others absolute; the result must name an earlier layer.
int resolve_reference(SectionReader& r, const CfgEntry& e, int value, int index) {
  const int abs = value < 0 ? index + value : value;
  if (abs < 0 || abs >= index) {
    r.fail(e, fmt::format("layer reference {} resolves to {}, outside the earlier layers 0..{}", value, abs,
                          index - 1));
  }
  return abs;
}

NetSettings read_net(const std::string& path, const CfgSection& s) {
  SectionReader r(path, s, -1);
  NetSettings n;
  n.batch = r.get_int("batch", 1);
  n.subdivisions = r.get_int("subdivisions", 1);
  n.width = r.get_int("width", 0);
  n.height = r.get_int("height", 0);
  n.channels = r.get_int("channels", 0);
  n.momentum = r.get_double("momentum", 0.9);
  n.decay = r.get_double("decay", 0.0001);
  n.learning_rate = r.get_double("learning_rate", 0.001);
  n.burn_in = r.get_int("burn_in", 0);
  n.max_batches = r.get_int("max_batches", 0);
  r.reject_unknown(kNetKeys);
  if (n.width <= 0 || n.height <= 0 || n.channels <= 0) {
    r.fail_section(fmt::format("width, height and channels must be positive (got {}, {}, {})", n.width, n.height,
                               n.channels));
  }
  return n;
}

ConvLayer read_convolutional(SectionReader& r) {
  ConvLayer c;
  c.filters = r.get_int("filters", 1);
  c.size = r.get_int("size", 1);
  c.stride = r.get_int("stride", 1);
  c.padding = r.get_int("padding", 0);
  if (r.get_int("pad", 0) != 0) c.padding = c.size / 2;  // Darknet's pad flag wins over padding
  c.groups = r.get_int("groups", 1);
  c.batch_normalize = r.get_int("batch_normalize", 0) != 0;
  c.activation = r.get_activation(Activation::logistic);
  if (c.filters <= 0 || c.size <= 0 || c.stride <= 0 || c.groups <= 0 || c.padding < 0) {
    r.fail_section(fmt::format("filters, size, stride and groups must be positive and padding >= 0 "
                               "(filters={} size={} stride={} groups={} padding={})",
                               c.filters, c.size, c.stride, c.groups, c.padding));
  }
  return c;
}

ShortcutLayer read_shortcut(SectionReader& r, int index) {
  ShortcutLayer c;
  const CfgEntry* e = r.find("from");
  if (!e) r.fail_section("required key 'from' is missing");
  c.from = resolve_reference(r, *e, r.require_int("from"), index);
  c.activation = r.get_activation(Activation::linear);
  if (r.get_float("alpha", 1) != 1 || r.get_float("beta", 1) != 1) {
    r.fail_section("alpha/beta other than 1 are not supported");
  }
  return c;
}

RouteLayer read_route(SectionReader& r, int index) {
  RouteLayer c;
  const CfgEntry* e = r.find("layers");
  for (int v : r.get_int_list("layers", true)) c.layers.push_back(resolve_reference(r, *e, v, index));
  return c;
}

UpsampleLayer read_upsample(SectionReader& r) {
  UpsampleLayer c;
  c.stride = r.get_int("stride", 2);
  c.scale = r.get_float("scale", 1.0f);
  if (c.stride <= 0) r.fail_section(fmt::format("stride must be positive (got {})", c.stride));
  return c;
}

MaxpoolLayer read_maxpool(SectionReader& r) {
  MaxpoolLayer c;
  c.stride = r.get_int("stride", 1);
  c.size = r.get_int("size", c.stride);
  c.padding = r.get_int("padding", c.size - 1);
  if (c.size <= 0 || c.stride <= 0 || c.padding < 0) {
    r.fail_section(fmt::format("size and stride must be positive and padding >= 0 (size={} stride={} padding={})",
                               c.size, c.stride, c.padding));
  }
  return c;
}

YoloLayer read_yolo(SectionReader& r) {
  YoloLayer c;
  c.classes = r.get_int("classes", 20);
  const int num = r.get_int("num", 1);
  // Checked before anything is sized by it (fuzz_cfg: num=-88 reached vector::assign).
  if (num < 1 || num > kMaxAnchors) {
    r.fail_section(fmt::format("num must be between 1 and {} anchors (got {})", kMaxAnchors, num));
  }
  c.mask = r.get_int_list("mask", false);
  if (c.mask.empty()) {
    for (int i = 0; i < num; ++i) c.mask.push_back(i);
  }
  c.anchors = r.get_float_list("anchors");
  if (c.anchors.empty()) c.anchors.assign(2 * num, 0.5f);
  c.ignore_thresh = r.get_float("ignore_thresh", 0.5f);
  c.truth_thresh = r.get_float("truth_thresh", 1.0f);
  c.jitter = r.get_float("jitter", 0.2f);
  c.random = r.get_int("random", 0) != 0;
  c.max_boxes = r.get_int("max", 90);
  if (c.classes <= 0) r.fail_section(fmt::format("classes must be positive (got {})", c.classes));
  if (static_cast<int>(c.anchors.size()) != 2 * num) {
    r.fail_section(fmt::format("anchors has {} values, but num={} needs {}", c.anchors.size(), num, 2 * num));
  }
  for (int m : c.mask) {
    if (m < 0 || m >= num) r.fail_section(fmt::format("mask index {} is outside the {} anchors", m, num));
  }
  return c;
}

SoftmaxLayer read_softmax(SectionReader& r) {
  SoftmaxLayer c;
  c.groups = r.get_int("groups", 1);
  c.temperature = r.get_float("temperature", 1.0f);
  return c;
}

LayerSpec read_layer(const std::string& path, const CfgSection& s, int index) {
  SectionReader r(path, s, index);
  LayerSpec spec;
  if (s.name == "convolutional") {
    spec = read_convolutional(r);
  } else if (s.name == "shortcut") {
    spec = read_shortcut(r, index);
  } else if (s.name == "route") {
    spec = read_route(r, index);
  } else if (s.name == "upsample") {
    spec = read_upsample(r);
  } else if (s.name == "maxpool") {
    spec = read_maxpool(r);
  } else if (s.name == "yolo") {
    spec = read_yolo(r);
  } else if (s.name == "avgpool") {
    spec = AvgpoolLayer{};
  } else if (s.name == "softmax") {
    spec = read_softmax(r);
  } else {
    r.fail_section(fmt::format("unknown section [{}] (supported: net, convolutional, shortcut, route, upsample, "
                               "maxpool, yolo, avgpool, softmax)",
                               s.name));
  }
  r.reject_unknown(kCommonLayerKeys);
  return spec;
}

}  // namespace

NetworkDef cfg_to_network_def(const CfgFile& cfg) {
  if (cfg.sections.empty() || cfg.sections[0].name != "net") {
    const int line = cfg.sections.empty() ? 1 : cfg.sections[0].line;
    throw ConfigError(fmt::format("{}:{}: the first section must be [net]", cfg.path, line));
  }
  NetworkDef def;
  def.source = cfg.path;
  def.net = read_net(cfg.path, cfg.sections[0]);
  for (std::size_t i = 1; i < cfg.sections.size(); ++i) {
    const CfgSection& s = cfg.sections[i];
    if (s.name == "net") throw ConfigError(fmt::format("{}:{}: a second [net] section", cfg.path, s.line));
    def.layers.push_back({read_layer(cfg.path, s, static_cast<int>(i) - 1), s.line});
  }
  if (def.layers.empty()) throw ConfigError(fmt::format("{}: no layers after [net]", cfg.path));
  return def;
}

NetworkDef read_network_cfg(const std::string& path) { return cfg_to_network_def(read_cfg_file(path)); }

}  // namespace models

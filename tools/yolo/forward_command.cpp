#include "tools/yolo/forward_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <variant>

#include "core/error.h"
#include "core/npy.h"
#include "core/tape.h"
#include "data/image.h"
#include "models/detect/decode.h"
#include "models/detect/preprocess.h"
#include "models/letterbox.h"
#include "tools/yolo/config_model.h"
#include "tools/yolo/cfg_model.h"
#include "tools/yolo/inference_model.h"

namespace yolo {

namespace {

using core::Tensor;

// Darknet's yolo layer copies its input and applies the logistic in place to
// tx, ty (channels 0 and 1 of each anchor slot) and to objectness and every
// class score (channels 4 onwards); tw, th stay raw (docs/darknet_format.md, 'Inference arithmetic').
Tensor darknet_yolo_output(const Tensor& raw, const models::YoloLayer& yolo) {
  Tensor out = raw.clone();
  const std::int64_t N = out.size(0), C = out.size(1), plane = out.size(2) * out.size(3);
  const std::int64_t per_anchor = 5 + yolo.classes;
  float* p = out.mutable_data<float>();
  for (std::int64_t n = 0; n < N; ++n) {
    for (std::int64_t c = 0; c < C; ++c) {
      const std::int64_t k = c % per_anchor;
      if (k == 2 || k == 3) continue;
      float* x = p + (n * C + c) * plane;
      for (std::int64_t i = 0; i < plane; ++i) x[i] = static_cast<float>(1.0 / (1.0 + std::exp(-double(x[i]))));
    }
  }
  return out;
}

Tensor read_network_input(const ForwardArgs& args, const models::Model& model) {
  const models::NetworkDef& def = model.network->def();
  if (!args.input.empty()) {
    if (args.size != 0) {
      throw core::ConfigError("--size applies to --image only; --input X.npy is used as is and sets the size");
    }
    const Tensor x = core::read_npy(args.input);
    if (x.dim() != 4 || x.dtype() != core::DType::f32 || x.size(1) != def.net.channels) {
      throw core::ShapeError(fmt::format("--input {}: expected float32 [N,{},H,W], got {}", args.input,
                                         def.net.channels, x.describe()));
    }
    check_input_size(def, static_cast<int>(x.size(2)), static_cast<int>(x.size(3)), "--input " + args.input);
    return x;
  }
  const int height = args.size ? args.size : def.net.height;
  const int width = args.size ? args.size : def.net.width;
  check_input_size(def, height, width, args.size ? fmt::format("--size {}", args.size) : def.source);
  if (def.net.channels != 3) {
    throw core::ConfigError(fmt::format("--image needs a 3-channel network; {} has channels={}", def.source,
                                        def.net.channels));
  }
  const data::Image im = data::load_image(args.image);
  const Tensor planar = models::darknet_planar_image(im.width, im.height, im.pixels.data());
  // A cfg's model letterboxes without normalisation: exactly Darknet's input.
  return models::prepare_input(planar, model.meta, width, height).view({1, 3, height, width});
}

// Every anchor slot of every head decoded by models::decode_yolo_heads with
// a threshold below any probability, so no row is dropped: [N, rows,
// 5+classes] with the box in input pixels (the layout of `yolo export --decode`).
Tensor decode_all_boxes(const std::vector<Tensor>& heads, const std::vector<models::YoloLayer>& layers, int height,
                        int width) {
  if (layers.empty()) throw core::ConfigError("forward --decode: the network has no [yolo] layer to decode");
  const int classes = layers.front().classes;
  for (const models::YoloLayer& l : layers) {
    if (l.classes != classes) {
      throw core::ConfigError(fmt::format("forward --decode: the heads have {} and {} classes; one detections "
                                          "tensor needs the same count on every head", classes, l.classes));
    }
  }
  const std::int64_t N = heads.front().size(0), row_size = 5 + classes;
  std::int64_t rows = 0;
  for (std::size_t k = 0; k < heads.size(); ++k) {
    rows += static_cast<std::int64_t>(layers[k].mask.size()) * heads[k].size(2) * heads[k].size(3);
  }
  std::vector<std::vector<models::DecodedBox>> images;
  for (std::int64_t n = 0; n < N; ++n) {
    images.push_back(models::decode_yolo_heads(heads, layers, static_cast<int>(n), width, height, -1.0f));
    // Only a NaN objectness fails the comparison with -1 and drops its row.
    if (static_cast<std::int64_t>(images.back().size()) != rows) {
      throw core::ValueError(fmt::format("forward --decode: image {} decodes to {} of {} boxes: the heads hold NaN",
                                         n, images.back().size(), rows));
    }
  }
  Tensor out = Tensor::empty({N, rows, row_size}, core::DType::f32);
  float* p = out.mutable_data<float>();
  for (const std::vector<models::DecodedBox>& boxes : images) {
    for (const models::DecodedBox& b : boxes) {
      const float fixed[5] = {b.x * static_cast<float>(width), b.y * static_cast<float>(height),
                              b.w * static_cast<float>(width), b.h * static_cast<float>(height), b.objectness};
      p = std::copy(fixed, fixed + 5, p);
      p = std::copy(b.prob.begin(), b.prob.end(), p);
    }
  }
  return out;
}

// The network of --cfg or --config, or (neither given) the one a checkpoint
// --weights describes, loaded with its weights as `yolo detect` loads it.
models::Model forward_model(const ForwardArgs& args, std::ostream& out, bool& weights_loaded) {
  weights_loaded = false;
  if (!args.cfg.empty()) return model_from_cfg(args.cfg);
  if (!args.config.empty()) return model_from_config(args.config, args.weights, out);
  if (args.weights.empty() || !is_checkpoint_file(args.weights)) {
    throw core::ConfigError("forward: give --cfg FILE.cfg, --config FILE.yml, or --weights CHECKPOINT alone (a "
                            "native checkpoint describes its network; Darknet .weights need --cfg)");
  }
  weights_loaded = true;
  return load_inference_model({args.weights, ""}, out);
}

}  // namespace

void run_forward_command(const ForwardArgs& args, std::ostream& out) {
  if (!args.cfg.empty() && !args.config.empty()) {
    throw core::ConfigError("forward: give at most one of --cfg FILE.cfg and --config FILE.yml");
  }
  if (args.image.empty() == args.input.empty()) {
    throw core::ConfigError("forward: give exactly one of --image IMG and --input X.npy");
  }
  if (args.dump.empty()) throw core::ConfigError("forward: --dump DIR is required");

  bool weights_loaded = false;
  const models::Model model = forward_model(args, out, weights_loaded);
  const models::NetworkDef& def = model.network->def();
  // The input first: a wrong size fails before the weights are read.
  const Tensor x = read_network_input(args, model);
  if (weights_loaded) {
    // load_inference_model reported the checkpoint.
  } else if (!args.weights.empty()) {
    const models::WeightsLoadSummary w = models::load_weights_into(model, args.weights);
    if (w.format == "darknet") {
      out << fmt::format("weights: {} (Darknet, {} of {} conv layers filled)\n", args.weights, w.layers_filled,
                         w.conv_layers);
    } else {
      out << fmt::format("weights: {} (checkpoint)\n", args.weights);
    }
  } else {
    out << "weights: none (fresh initialisation)\n";
  }

  core::Tape tape(core::Tape::Mode::inference);
  const models::DarknetNetwork::Output result = model.network->forward(tape, x, args.all_layers);

  std::filesystem::create_directories(args.dump);
  const std::filesystem::path dir(args.dump);
  core::write_npy((dir / "input.npy").string(), x);
  out << fmt::format("input: {}\n", x.describe());
  const std::vector<int> strides =
      model.network->yolo_strides(static_cast<int>(x.size(2)), static_cast<int>(x.size(3)));
  for (std::size_t k = 0; k < result.heads.size(); ++k) {
    core::write_npy((dir / fmt::format("head_{}.npy", k)).string(), result.heads[k]);
    out << fmt::format("head_{}: {} (stride {})\n", k, result.heads[k].describe(), strides[k]);
  }
  if (args.decode) {
    const Tensor boxes = decode_all_boxes(result.heads, model.network->yolo_layers(), static_cast<int>(x.size(2)),
                                          static_cast<int>(x.size(3)));
    core::write_npy((dir / "detections.npy").string(), boxes);
    out << fmt::format("detections: {}\n", boxes.describe());
  }
  if (args.all_layers) {
    for (std::size_t i = 0; i < result.layers.size(); ++i) {
      const models::LayerSpec& spec = def.layers[i].spec;
      const auto* yolo = std::get_if<models::YoloLayer>(&spec);
      const Tensor t = yolo ? darknet_yolo_output(result.layers[i], *yolo) : result.layers[i];
      core::write_npy((dir / fmt::format("layer_{:03}_{}.npy", i, models::layer_type_name(spec))).string(), t);
    }
    out << fmt::format("layers: {} files layer_NNN_<type>.npy\n", result.layers.size());
  }
  out << fmt::format("wrote {}\n", args.dump);
}

}  // namespace yolo

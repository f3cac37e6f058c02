#include "tools/yolo/export_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <filesystem>

#include "core/error.h"
#include "deploy/onnx_export.h"
#include "tools/yolo/config_model.h"
#include "tools/yolo/inference_model.h"

namespace yolo {

namespace {

// "dynamic" -> 0 (a symbolic batch), "N" -> N.
int parse_batch(const std::string& text) {
  if (text == "dynamic") return 0;
  int n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n <= 0) {
    throw core::ConfigError(fmt::format("export: --batch '{}': expected a positive count (e.g. 1) or 'dynamic'", text));
  }
  return n;
}

models::Model load_model(const ExportArgs& args, std::ostream& out) {
  if (args.weights.empty()) {
    throw core::ConfigError("export: --weights FILE is required (a native checkpoint, or Darknet .weights with --cfg)");
  }
  if (args.config.empty()) return load_inference_model({args.weights, args.cfg}, out);
  if (!args.cfg.empty()) throw core::ConfigError("export: give at most one of --cfg FILE.cfg and --config FILE.yml");
  models::Model model = model_from_config(args.config, args.weights, out);
  const models::WeightsLoadSummary w = models::load_weights_into(model, args.weights);
  out << fmt::format("model: {} with {} ({})\n", args.config, args.weights, w.format);
  return model;
}

}  // namespace

void run_export_command(const ExportArgs& args, std::ostream& out) {
  if (args.format != "onnx") {
    throw core::ConfigError(fmt::format("export: unknown --format '{}' (supported: onnx)", args.format));
  }
  if (args.out.empty()) throw core::ConfigError("export: --out MODEL.onnx is required");
  deploy::OnnxExportOptions options;
  options.batch = parse_batch(args.batch);
  options.decode = args.decode;
  if (args.size != 0 && (args.size < 0 || args.size % 32 != 0)) {
    throw core::ConfigError(fmt::format("export: --size {} must be a positive multiple of 32", args.size));
  }
  const models::Model model = load_model(args, out);
  options.size = args.size != 0 ? args.size : model.meta.input_size;

  const deploy::OnnxExport e = deploy::export_onnx(model, options);
  deploy::write_onnx(args.out, e.model);
  out << fmt::format("opset {}, input images [{},3,{},{}]{}\n", deploy::kOnnxOpset,
                     options.batch == 0 ? "batch" : std::to_string(options.batch), options.size, options.size,
                     model.meta.mean_std ? " (mean/std normalisation inside)" : "");
  for (const deploy::OnnxOutput& o : e.outputs) {
    std::vector<std::string> dims;
    for (std::int64_t d : o.shape) dims.push_back(d < 0 ? "batch" : std::to_string(d));
    out << fmt::format("output {}: [{}]\n", o.name, fmt::join(dims, ","));
  }
  out << fmt::format("wrote {} ({} bytes)\n", args.out, std::filesystem::file_size(args.out));
}

}  // namespace yolo

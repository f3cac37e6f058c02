// yolo_cpu::Detector over the framework's inference path: the model is
// loaded by tools/yolo/inference_model.h and run by models::detect_batch
// with the options `yolo detect` sets from its flags, so that both give the
// same boxes for the same image (tests/yolo_cpu/detect_image_check.sh).
#include <fmt/format.h>

#include <ostream>
#include <utility>

#include "core/error.h"
#include "models/detect/detector.h"
#include "models/letterbox.h"
#include "tools/yolo/cfg_model.h"
#include "tools/yolo/inference_model.h"
#include "yolo_cpu/api_errors.h"
#include "yolo_cpu/yolo_cpu.h"

namespace yolo_cpu {

const char* version() noexcept { return YOLO_CPU_VERSION_STRING; }

Error::Error(const std::string& message) : std::runtime_error(message) {}
// Defined here so that the type's identity (vtable, typeinfo) lives in the
// library, and `catch (const yolo_cpu::Error&)` matches across it.
Error::~Error() = default;

struct Detector::Impl {
  models::Model model;
  models::DetectOptions detect;
  DetectorOptions options;
  std::vector<std::string> class_names;
};

namespace {

// The ranges `yolo detect` checks its flags against.
void check_options(const DetectorOptions& o) {
  if (!(o.score_threshold >= 0 && o.score_threshold < 1)) {
    throw core::ConfigError(fmt::format("Detector: score_threshold {} must be in [0, 1)", o.score_threshold));
  }
  if (!(o.nms_iou >= 0 && o.nms_iou <= 1)) {
    throw core::ConfigError(fmt::format("Detector: nms_iou {} must be in [0, 1]", o.nms_iou));
  }
  if (o.input_size < 0) throw core::ConfigError(fmt::format("Detector: input_size {} must be 0 or positive", o.input_size));
  if (o.max_detections < 0) {
    throw core::ConfigError(fmt::format("Detector: max_detections {} must be 0 or positive", o.max_detections));
  }
}

// The checkpoint's class names, or "0", "1", ... for a model without them
// (Darknet weights), as `yolo detect` names them without --names.
std::vector<std::string> class_names_of(const models::Model& model, int classes, const std::string& weights) {
  if (model.meta.class_names.empty()) {
    std::vector<std::string> names;
    for (int k = 0; k < classes; ++k) names.push_back(std::to_string(k));
    return names;
  }
  if (model.meta.class_names.size() != static_cast<std::size_t>(classes)) {
    throw core::ConfigError(fmt::format("Detector: {} names {} classes, the network predicts {}", weights,
                                        model.meta.class_names.size(), classes));
  }
  return model.meta.class_names;
}

// The DetectOptions `yolo detect` builds from its flags (detect_command.cpp:
// the model's input size unless --size, --thresh, bounded NMS with
// --nms-iou, --pre-nms-top-k at its default, --max-dets).
models::DetectOptions detect_options_for(const models::Model& model, const DetectorOptions& o) {
  models::DetectOptions d = models::default_detect_options(model);
  if (o.input_size != 0) d.net_width = d.net_height = o.input_size;
  yolo::check_input_size(model.network->def(), d.net_height, d.net_width,
                         o.input_size != 0 ? fmt::format("Detector: input_size {}", o.input_size)
                                           : std::string("the model's input size"));
  d.thresh = o.score_threshold;
  d.nms = models::NmsMethod::bounded;
  d.nms_iou = o.nms_iou;
  d.max_dets = o.max_detections;
  return d;
}

// Interleaved 8-bit RGB rows -> the float RGB values 0..255 that
// data::load_image produces, so the image takes the same path as a file
// read by `yolo detect`.
std::vector<float> rgb_values(const std::uint8_t* rgb, std::size_t size, int width, int height, int stride) {
  if (rgb == nullptr) throw core::ValueError("Detector::detect: the pixel buffer is null");
  if (width <= 0 || height <= 0) {
    throw core::ValueError(fmt::format("Detector::detect: image size {}x{} (WxH) must be positive", width, height));
  }
  const std::size_t row = std::size_t(width) * 3;
  const std::size_t pitch = stride == 0 ? row : std::size_t(stride);
  if (stride < 0 || pitch < row) {
    throw core::ValueError(fmt::format("Detector::detect: stride {} is below width * 3 = {} bytes", stride, row));
  }
  const std::size_t needed = (std::size_t(height) - 1) * pitch + row;
  if (size < needed) {
    throw core::ValueError(fmt::format("Detector::detect: a {}x{} RGB image with a {}-byte stride needs {} bytes, "
                                       "the buffer holds {}", width, height, pitch, needed, size));
  }
  std::vector<float> values(row * std::size_t(height));
  for (int y = 0; y < height; ++y) {
    const std::uint8_t* src = rgb + std::size_t(y) * pitch;
    float* dst = values.data() + std::size_t(y) * row;
    for (std::size_t i = 0; i < row; ++i) dst[i] = src[i];
  }
  return values;
}

}  // namespace

Detector::Detector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Detector::Detector(Detector&&) noexcept = default;
Detector& Detector::operator=(Detector&&) noexcept = default;
Detector::~Detector() = default;

const Detector::Impl& Detector::impl() const {
  if (!impl_) throw Error("yolo_cpu::Detector: used after it was moved from");
  return *impl_;
}

Detector Detector::load(const std::string& checkpoint_path, const DetectorOptions& options) {
  return load("", checkpoint_path, options);
}

Detector Detector::load(const std::string& cfg_path, const std::string& weights_path, const DetectorOptions& options) {
  return translate_errors([&] {
    check_options(options);
    if (weights_path.empty()) throw core::ConfigError("Detector::load: the weights path is empty");
    // load_inference_model reports what it loaded on a stream; a library
    // stays quiet (a stream without a buffer drops everything).
    std::ostream quiet(nullptr);
    auto impl = std::make_unique<Impl>(Impl{yolo::load_inference_model({weights_path, cfg_path}, quiet), {}, options, {}});
    const std::vector<models::YoloLayer> layers = impl->model.network->yolo_layers();
    if (layers.empty()) {
      throw core::ConfigError(fmt::format("Detector::load: {} has no [yolo] layers", impl->model.network->def().source));
    }
    impl->class_names = class_names_of(impl->model, layers.front().classes, weights_path);
    impl->detect = detect_options_for(impl->model, options);
    // A detector only detects: one copy of the folded weights, not two.
    impl->model.network->release_unfolded_weights();
    return Detector(std::move(impl));
  });
}

std::vector<Detection> Detector::detect(const std::uint8_t* rgb, std::size_t size, int width, int height,
                                        int stride) const {
  return translate_errors([&] {
    const Impl& self = impl();
    const std::vector<float> values = rgb_values(rgb, size, width, height, stride);
    const core::Tensor planar = models::darknet_planar_image(width, height, values.data());
    const std::vector<models::ImageDetection> found = models::detect_batch(self.model, {planar}, self.detect).at(0);
    std::vector<Detection> detections;
    detections.reserve(found.size());
    for (const models::ImageDetection& d : found) {
      detections.push_back({d.x1, d.y1, d.x2, d.y2, d.score, d.label, self.class_names.at(std::size_t(d.label))});
    }
    return detections;
  });
}

const std::vector<std::string>& Detector::class_names() const { return impl().class_names; }

int Detector::input_size() const { return impl().detect.net_width; }

const DetectorOptions& Detector::options() const { return impl().options; }

}  // namespace yolo_cpu

#include "models/detect/detector.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/tape.h"
#include "models/detect/decode.h"
#include "models/detect/preprocess.h"

namespace models {

namespace {

// Puts the network in eval mode for one scope; training code that calls the
// evaluator between steps gets its mode back.
class EvalModeScope {
 public:
  explicit EvalModeScope(DarknetNetwork& net) : net_(net), was_training_(net.training()) { net_.set_training(false); }
  ~EvalModeScope() { net_.set_training(was_training_); }
  EvalModeScope(const EvalModeScope&) = delete;
  EvalModeScope& operator=(const EvalModeScope&) = delete;

 private:
  DarknetNetwork& net_;
  bool was_training_;
};

}  // namespace

DetectOptions default_detect_options(const Model& model) {
  DetectOptions o;
  const NetSettings& net = model.network->def().net;
  if (model.meta.input_size > 0) {
    o.net_width = o.net_height = model.meta.input_size;
  } else {
    o.net_width = net.width;
    o.net_height = net.height;
  }
  return o;
}

std::vector<core::Tensor> forward_heads(const Model& model, const std::vector<core::Tensor>& images,
                                        const DetectOptions& options) {
  if (model.network->yolo_layers().empty()) {
    throw core::ValueError(fmt::format("detect: network {} has no [yolo] layers", model.network->def().source));
  }
  const core::Tensor input = prepare_batch(images, model.meta, options.net_width, options.net_height);
  EvalModeScope scope(*model.network);
  core::Tape tape(core::Tape::Mode::inference);
  return model.network->forward(tape, input).heads;
}

std::vector<std::vector<ImageDetection>> detections_from_heads(const Model& model, const std::vector<core::Tensor>& heads,
                                                               const std::vector<core::Tensor>& images,
                                                               const DetectOptions& options) {
  const std::vector<YoloLayer> layers = model.network->yolo_layers();
  const ResizeMode mode = parse_resize_mode(model.meta.resize);
  std::vector<std::vector<ImageDetection>> result;
  result.reserve(images.size());
  for (std::size_t i = 0; i < images.size(); ++i) {
    std::vector<DecodedBox> boxes =
        decode_yolo_heads(heads, layers, static_cast<int>(i), options.net_width, options.net_height, options.thresh);
    // Stretched inputs map fractions to fractions unchanged.
    const int width = static_cast<int>(images[i].size(2)), height = static_cast<int>(images[i].size(1));
    if (mode == ResizeMode::letterbox) {
      correct_letterbox_boxes(boxes, width, height, options.net_width, options.net_height);
    }
    if (options.nms == NmsMethod::bounded && options.nms_iou > 0) {
      const NmsOptions nms{options.nms_iou, options.pre_nms_top_k, options.max_dets};
      result.push_back(bounded_nms(boxes, width, height, options.thresh, nms));
      continue;
    }
    if (options.nms_iou > 0) nms_sort(boxes, options.nms_iou);
    result.push_back(to_image_detections(boxes, width, height, options.thresh, options.max_dets));
  }
  return result;
}

std::vector<std::vector<ImageDetection>> detect_batch(const Model& model, const std::vector<core::Tensor>& images,
                                                      const DetectOptions& options) {
  return detections_from_heads(model, forward_heads(model, images, options), images, options);
}

}  // namespace models

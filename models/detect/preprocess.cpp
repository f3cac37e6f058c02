#include "models/detect/preprocess.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>

#include "core/error.h"
#include "models/letterbox.h"

namespace models {

ResizeMode parse_resize_mode(const std::string& name) {
  if (name == "letterbox") return ResizeMode::letterbox;
  if (name == "stretch") return ResizeMode::stretch;
  throw core::ValueError(fmt::format("resize mode '{}': expected letterbox or stretch", name));
}

core::Tensor prepare_input(const core::Tensor& image, const ModelMeta& meta, int net_width, int net_height) {
  if (image.dim() != 3 || image.size(0) != 3 || image.dtype() != core::DType::f32) {
    throw core::ShapeError(
        fmt::format("prepare_input: expected a float32 RGB image [3, H, W], got {}", image.describe()));
  }
  // Darknet's detector stretches with the same resize when letterboxing is off.
  const core::Tensor input = parse_resize_mode(meta.resize) == ResizeMode::letterbox
                                 ? darknet_letterbox(image, net_width, net_height)
                                 : darknet_resize(image, net_width, net_height);
  if (!meta.mean_std) return input;
  const std::size_t plane = std::size_t(net_width) * std::size_t(net_height);
  float* p = input.mutable_data<float>();
  for (std::size_t k = 0; k < 3; ++k) {
    const float mean = meta.mean[k], inv_std = 1.0f / meta.std[k];
    for (std::size_t i = 0; i < plane; ++i) p[k * plane + i] = (p[k * plane + i] - mean) * inv_std;
  }
  return input;
}

core::Tensor prepare_batch(const std::vector<core::Tensor>& images, const ModelMeta& meta, int net_width,
                           int net_height) {
  if (images.empty()) throw core::ValueError("prepare_batch: no images");
  if (net_width <= 0 || net_height <= 0) {
    throw core::ValueError(fmt::format("prepare_batch: network size {}x{} must be positive", net_width, net_height));
  }
  core::Tensor batch = core::Tensor::empty({static_cast<std::int64_t>(images.size()), 3, net_height, net_width},
                                           core::DType::f32);
  float* dst = batch.mutable_data<float>();
  const std::size_t per_image = std::size_t(3) * std::size_t(net_width) * std::size_t(net_height);
  for (std::size_t i = 0; i < images.size(); ++i) {
    const core::Tensor one = prepare_input(images[i], meta, net_width, net_height);
    std::copy(one.data<float>(), one.data<float>() + per_image, dst + i * per_image);
  }
  return batch;
}

}  // namespace models

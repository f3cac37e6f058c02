// From a decoded image to the network input the way a model expects it: the
// model's resize mode (Darknet's letterbox, models/letterbox.h, or a plain
// stretch with Darknet's resize) followed by its input normalisation
// (ModelMeta). Images are float32 [3, H, W] RGB in [0, 1] (see
// models::darknet_planar_image); the network sees the same scale, optionally
// (x - mean) / std per channel.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"
#include "models/model_file.h"

namespace models {

enum class ResizeMode { letterbox, stretch };
// Throws core::ValueError naming the value for anything but "letterbox" or "stretch".
ResizeMode parse_resize_mode(const std::string& name);

// One image [3, H, W] -> [3, net_height, net_width], resized per meta.resize
// and normalised when meta.mean_std. Throws core::ShapeError unless the
// image is float32 [3, H, W], core::ValueError for a non-positive size or an
// unknown resize mode.
core::Tensor prepare_input(const core::Tensor& image, const ModelMeta& meta, int net_width, int net_height);

// A batch [N, 3, net_height, net_width] float32 of the images, in order.
// Throws as prepare_input, and core::ValueError for an empty list.
core::Tensor prepare_batch(const std::vector<core::Tensor>& images, const ModelMeta& meta, int net_width,
                           int net_height);

}  // namespace models

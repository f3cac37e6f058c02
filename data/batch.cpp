#include "data/batch.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace data {

void write_chw(const Image& image, const NormalizeParams& normalize, float* dst) {
  const std::size_t plane = static_cast<std::size_t>(image.width) * image.height;
  for (int c = 0; c < 3; ++c) {
    float scale = 1.0f / 255.0f, shift = 0.0f;
    if (normalize.mean_std) {
      scale /= normalize.std[c];
      shift = -normalize.mean[c] / normalize.std[c];
    }
    float* out = dst + c * plane;
    const float* in = image.pixels.data() + c;
    for (std::size_t i = 0; i < plane; ++i) out[i] = in[i * 3] * scale + shift;
  }
}

Batch collate(const std::vector<Sample>& samples, int size, int max_boxes, const NormalizeParams& normalize) {
  const auto n = static_cast<std::int64_t>(samples.size());
  Batch b;
  b.size = size;
  b.images = core::Tensor::empty({n, 3, size, size}, core::DType::f32);
  b.gt_box = core::Tensor::zeros({n, max_boxes, 4}, core::DType::f32);
  b.gt_label = core::Tensor::zeros({n, max_boxes}, core::DType::i32);
  b.gt_score = core::Tensor::zeros({n, max_boxes}, core::DType::f32);
  float* images = b.images.mutable_data<float>();
  float* box = b.gt_box.mutable_data<float>();
  std::int32_t* label = b.gt_label.mutable_data<std::int32_t>();
  float* score = b.gt_score.mutable_data<float>();
  const float inv = 1.0f / static_cast<float>(size);
  for (std::int64_t i = 0; i < n; ++i) {
    const Sample& s = samples[i];
    if (s.image.width != size || s.image.height != size) {
      throw core::ShapeError(fmt::format("collate: sample {} is {}x{}, batch size is {}", i, s.image.width,
                                         s.image.height, size));
    }
    write_chw(s.image, normalize, images + i * 3 * size * size);
    const int count = std::min<int>(static_cast<int>(s.targets.size()), max_boxes);
    b.truncated_boxes += static_cast<int>(s.targets.size()) - count;
    for (int t = 0; t < count; ++t) {
      const Box& bx = s.targets[t].box;
      float* row = box + (i * max_boxes + t) * 4;
      row[0] = (bx.x1 + bx.x2) * 0.5f * inv;
      row[1] = (bx.y1 + bx.y2) * 0.5f * inv;
      row[2] = bx.width() * inv;
      row[3] = bx.height() * inv;
      label[i * max_boxes + t] = s.targets[t].label;
      score[i * max_boxes + t] = s.targets[t].score;
    }
  }
  return b;
}

}  // namespace data

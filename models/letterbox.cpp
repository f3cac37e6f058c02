// Darknet's resize_image and letterbox_image (src/image.c), re-implemented.
// The arithmetic is kept in float32 and in Darknet's order on purpose: the
// scale is (src-1)/(dst-1) computed in float, the source coordinate is
// index * scale in float, and the vertical pass writes (1-dy)*row[iy] first
// and adds dy*row[iy+1] afterwards, skipping the second term on the last
// row. This file is compiled with -ffp-contract=off (models/CMakeLists.txt)
// so that no multiply-add is fused where Darknet's baseline x86-64 build
// rounds twice.
#include "models/letterbox.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "core/error.h"

namespace models {

using core::Tensor;

LetterboxGeometry letterbox_geometry(int image_w, int image_h, int net_w, int net_h) {
  if (image_w <= 0 || image_h <= 0 || net_w <= 0 || net_h <= 0) {
    throw core::ValueError(fmt::format("letterbox: sizes must be positive (image {}x{}, network {}x{})", image_w,
                                       image_h, net_w, net_h));
  }
  LetterboxGeometry g;
  // Float comparison of the two scale factors, integer division for the
  // other side, as Darknet does.
  if (static_cast<float>(net_w) / image_w < static_cast<float>(net_h) / image_h) {
    g.new_w = net_w;
    g.new_h = static_cast<int>(static_cast<long long>(image_h) * net_w / image_w);
  } else {
    g.new_h = net_h;
    g.new_w = static_cast<int>(static_cast<long long>(image_w) * net_h / image_h);
  }
  g.dx = (net_w - g.new_w) / 2;
  g.dy = (net_h - g.new_h) / 2;
  return g;
}

Tensor darknet_planar_image(int width, int height, const float* rgb) {
  if (width <= 0 || height <= 0) {
    throw core::ValueError(fmt::format("darknet_planar_image: empty image {}x{}", width, height));
  }
  Tensor out = Tensor::empty({3, height, width}, core::DType::f32);
  float* o = out.mutable_data<float>();
  const std::size_t plane = static_cast<std::size_t>(width) * height;
  for (std::size_t p = 0; p < plane; ++p) {
    for (int c = 0; c < 3; ++c) {
      // load_image_stb: (float)byte / 255. in double, stored as float.
      o[c * plane + p] = static_cast<float>(static_cast<double>(rgb[p * 3 + c]) / 255.0);
    }
  }
  return out;
}

Tensor darknet_resize(const Tensor& im, int w, int h) {
  if (im.dim() != 3 || im.dtype() != core::DType::f32) {
    throw core::ShapeError(fmt::format("darknet_resize: expected a float32 [C,H,W] image, got {}", im.describe()));
  }
  if (w <= 0 || h <= 0) throw core::ValueError(fmt::format("darknet_resize: target size {}x{} is empty", w, h));
  const int C = static_cast<int>(im.size(0)), H = static_cast<int>(im.size(1)), W = static_cast<int>(im.size(2));
  const float* src = im.data<float>();

  // Darknet divides by (dst-1) even when dst is 1; only the copy branches
  // below read the scale then, except a one-row target, where Darknet reads
  // 0 * inf (NaN). We take row 0 there.
  const float w_scale = w > 1 ? static_cast<float>(W - 1) / static_cast<float>(w - 1) : 0.0f;
  const float h_scale = h > 1 ? static_cast<float>(H - 1) / static_cast<float>(h - 1) : 0.0f;

  // Horizontal pass: [C, H, w].
  std::vector<float> part(static_cast<std::size_t>(C) * H * w);
  for (int k = 0; k < C; ++k) {
    for (int r = 0; r < H; ++r) {
      const float* row = src + (static_cast<std::size_t>(k) * H + r) * W;
      float* dst = part.data() + (static_cast<std::size_t>(k) * H + r) * w;
      for (int c = 0; c < w; ++c) {
        if (c == w - 1 || W == 1) {
          dst[c] = row[W - 1];
        } else {
          const float sx = static_cast<float>(c) * w_scale;
          const int ix = static_cast<int>(sx);
          const float dx = sx - static_cast<float>(ix);
          const float a = (1.0f - dx) * row[ix];
          const float b = dx * row[ix + 1];
          dst[c] = a + b;
        }
      }
    }
  }

  // Vertical pass: [C, h, w].
  Tensor out = Tensor::empty({C, h, w}, core::DType::f32);
  float* o = out.mutable_data<float>();
  for (int k = 0; k < C; ++k) {
    for (int r = 0; r < h; ++r) {
      const float sy = static_cast<float>(r) * h_scale;
      const int iy = static_cast<int>(sy);
      const float dy = sy - static_cast<float>(iy);
      const float* top = part.data() + (static_cast<std::size_t>(k) * H + iy) * w;
      float* dst = o + (static_cast<std::size_t>(k) * h + r) * w;
      for (int c = 0; c < w; ++c) dst[c] = (1.0f - dy) * top[c];
      // Darknet skips the lower row on the last output row, even when sy
      // rounds to just below H-1 (then the row comes out slightly dark).
      if (r == h - 1 || H == 1) continue;
      const float* bottom = top + w;
      for (int c = 0; c < w; ++c) dst[c] += dy * bottom[c];
    }
  }
  return out;
}

Tensor darknet_letterbox(const Tensor& im, int net_w, int net_h) {
  if (im.dim() != 3) {
    throw core::ShapeError(fmt::format("darknet_letterbox: expected a [C,H,W] image, got {}", im.describe()));
  }
  const int C = static_cast<int>(im.size(0));
  const LetterboxGeometry g =
      letterbox_geometry(static_cast<int>(im.size(2)), static_cast<int>(im.size(1)), net_w, net_h);
  const Tensor resized = darknet_resize(im, g.new_w, g.new_h);
  Tensor canvas = Tensor::full({C, net_h, net_w}, 0.5, core::DType::f32);
  float* o = canvas.mutable_data<float>();
  const float* s = resized.data<float>();
  for (int k = 0; k < C; ++k) {
    for (int y = 0; y < g.new_h; ++y) {
      const float* src_row = s + (static_cast<std::size_t>(k) * g.new_h + y) * g.new_w;
      float* dst_row = o + (static_cast<std::size_t>(k) * net_h + y + g.dy) * net_w + g.dx;
      std::copy(src_row, src_row + g.new_w, dst_row);
    }
  }
  return canvas;
}

}  // namespace models

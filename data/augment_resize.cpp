#include "data/augment_resize.h"

#include <algorithm>
#include <cmath>

#include "data/augment_geometry.h"
#include "data/rng.h"

namespace data {

namespace {

// Source coordinate of a destination pixel centre.
inline float src_coord(int dst, float scale) { return (static_cast<float>(dst) + 0.5f) * scale - 0.5f; }

Image resize_nearest(const Image& src, int w, int h) {
  Image out(w, h);
  const float sx = static_cast<float>(src.width) / w, sy = static_cast<float>(src.height) / h;
  for (int y = 0; y < h; ++y) {
    const int yy = std::min(static_cast<int>((y + 0.5f) * sy), src.height - 1);
    for (int x = 0; x < w; ++x) {
      const int xx = std::min(static_cast<int>((x + 0.5f) * sx), src.width - 1);
      std::copy_n(src.at(xx, yy), 3, out.at(x, y));
    }
  }
  return out;
}

Image resize_bilinear(const Image& src, int w, int h) {
  Image out(w, h);
  const float sx = static_cast<float>(src.width) / w, sy = static_cast<float>(src.height) / h;
  std::vector<int> x0(w), x1(w);
  std::vector<float> fx(w);
  for (int x = 0; x < w; ++x) {
    const float c = std::clamp(src_coord(x, sx), 0.0f, static_cast<float>(src.width - 1));
    x0[x] = static_cast<int>(c);
    x1[x] = std::min(x0[x] + 1, src.width - 1);
    fx[x] = c - x0[x];
  }
  for (int y = 0; y < h; ++y) {
    const float c = std::clamp(src_coord(y, sy), 0.0f, static_cast<float>(src.height - 1));
    const int y0 = static_cast<int>(c), y1 = std::min(y0 + 1, src.height - 1);
    const float fy = c - y0;
    for (int x = 0; x < w; ++x) {
      const float *a = src.at(x0[x], y0), *b = src.at(x1[x], y0), *cc = src.at(x0[x], y1), *d = src.at(x1[x], y1);
      float* o = out.at(x, y);
      for (int k = 0; k < 3; ++k) {
        const float top = a[k] + fx[x] * (b[k] - a[k]);
        const float bottom = cc[k] + fx[x] * (d[k] - cc[k]);
        o[k] = top + fy * (bottom - top);
      }
    }
  }
  return out;
}

// Keys' cubic convolution kernel with a = -0.75 (OpenCV's choice).
inline float cubic_weight(float t) {
  constexpr float a = -0.75f;
  t = std::fabs(t);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

Image resize_bicubic(const Image& src, int w, int h) {
  Image out(w, h);
  const float sx = static_cast<float>(src.width) / w, sy = static_cast<float>(src.height) / h;
  for (int y = 0; y < h; ++y) {
    const float cy = src_coord(y, sy);
    const int iy = static_cast<int>(std::floor(cy));
    float wy[4];
    for (int j = 0; j < 4; ++j) wy[j] = cubic_weight(cy - (iy - 1 + j));
    for (int x = 0; x < w; ++x) {
      const float cx = src_coord(x, sx);
      const int ix = static_cast<int>(std::floor(cx));
      float acc[3] = {0, 0, 0};
      for (int j = 0; j < 4; ++j) {
        const int yy = std::clamp(iy - 1 + j, 0, src.height - 1);
        for (int i = 0; i < 4; ++i) {
          const int xx = std::clamp(ix - 1 + i, 0, src.width - 1);
          const float wgt = wy[j] * cubic_weight(cx - (ix - 1 + i));
          const float* p = src.at(xx, yy);
          for (int k = 0; k < 3; ++k) acc[k] += wgt * p[k];
        }
      }
      std::copy_n(acc, 3, out.at(x, y));
    }
  }
  return out;
}

// Box filter: each output pixel averages the source area it covers, with
// fractional weights at the edges. Upscaling degenerates to bilinear, as in
// OpenCV's INTER_AREA.
Image resize_area(const Image& src, int w, int h) {
  if (w >= src.width || h >= src.height) return resize_bilinear(src, w, h);
  Image out(w, h);
  const double sx = static_cast<double>(src.width) / w, sy = static_cast<double>(src.height) / h;
  for (int y = 0; y < h; ++y) {
    const double y0 = y * sy, y1 = (y + 1) * sy;
    for (int x = 0; x < w; ++x) {
      const double x0 = x * sx, x1 = (x + 1) * sx;
      double acc[3] = {0, 0, 0}, total = 0;
      for (int yy = static_cast<int>(y0); yy < std::min(static_cast<int>(std::ceil(y1)), src.height); ++yy) {
        const double wy = std::min<double>(yy + 1, y1) - std::max<double>(yy, y0);
        for (int xx = static_cast<int>(x0); xx < std::min(static_cast<int>(std::ceil(x1)), src.width); ++xx) {
          const double wgt = wy * (std::min<double>(xx + 1, x1) - std::max<double>(xx, x0));
          const float* p = src.at(xx, yy);
          for (int k = 0; k < 3; ++k) acc[k] += wgt * p[k];
          total += wgt;
        }
      }
      float* o = out.at(x, y);
      for (int k = 0; k < 3; ++k) o[k] = static_cast<float>(acc[k] / total);
    }
  }
  return out;
}

}  // namespace

Image resize_image(const Image& src, int w, int h, Interp interp) {
  switch (interp) {
    case Interp::nearest: return resize_nearest(src, w, h);
    case Interp::bilinear: return resize_bilinear(src, w, h);
    case Interp::bicubic: return resize_bicubic(src, w, h);
    case Interp::area: return resize_area(src, w, h);
  }
  return resize_bilinear(src, w, h);
}

void resize_sample(Sample& sample, int size, Interp interp, const ResizeParams& params) {
  const int W = sample.image.width, H = sample.image.height;
  int w = size, h = size;
  if (params.letterbox) {
    const float s = static_cast<float>(size) / std::max(W, H);
    w = std::clamp(static_cast<int>(std::lround(W * s)), 1, size);
    h = std::clamp(static_cast<int>(std::lround(H * s)), 1, size);
  }
  const float sx = static_cast<float>(w) / W, sy = static_cast<float>(h) / H;
  sample.image = resize_image(sample.image, w, h, interp);
  for (Target& t : sample.targets) {
    t.box.x1 *= sx;
    t.box.x2 *= sx;
    t.box.y1 *= sy;
    t.box.y2 *= sy;
  }
  if (params.letterbox) expand(sample, size, size, (size - w) / 2, (size - h) / 2, params.fill);
}

void random_resize(Sample& sample, int size, const ResizeParams& params, std::mt19937& rng) {
  const Interp interp = params.random_interp ? static_cast<Interp>(uniform_index(rng, 4)) : Interp::bilinear;
  resize_sample(sample, size, interp, params);
}

std::vector<int> input_size_choices(const MultiScaleParams& params) {
  if (!params.enabled) return {params.size};
  std::vector<int> sizes;
  for (int s = params.min_size; s <= params.max_size; s += params.step) sizes.push_back(s);
  return sizes;
}

int pick_batch_size(const MultiScaleParams& params, std::mt19937& rng) {
  if (!params.enabled) return params.size;
  const std::vector<int> sizes = input_size_choices(params);
  return sizes[uniform_index(rng, static_cast<std::uint32_t>(sizes.size()))];
}

}  // namespace data

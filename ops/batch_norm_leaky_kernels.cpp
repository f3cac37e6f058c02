#include "ops/batch_norm_leaky_kernels.h"

#include <omp.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <cmath>
#include <type_traits>
#include <vector>

namespace ops::kernels {

namespace {

// Below this many values one thread is quicker than waking the others.
constexpr std::int64_t kParallelMin = 1 << 15;

int threads_for(std::int64_t values) { return values < kParallelMin ? 1 : omp_get_max_threads(); }

// A view's values as rows of `lanes` values: items * inner rows, one item
// being `inner` consecutive rows of one channel block. Threads take
// contiguous ranges of rows, so a channels-last tensor (one item of N*H*W
// rows) splits as well as a blocked one.
std::int64_t rows_of(const ChannelView& v) { return v.outer * v.blocks * v.inner; }

// body(begin, end) over each thread's contiguous share of the rows.
template <class F>
void parallel_rows(const ChannelView& v, F&& body) {
  const std::int64_t rows = rows_of(v);
#pragma omp parallel num_threads(threads_for(rows * v.lanes))
  {
    const std::int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    body(rows * t / nt, rows * (t + 1) / nt);
  }
}

// The same, each thread adding into its own `width` doubles (body's third
// argument); returns their sum, added in thread order.
template <class F>
std::vector<double> parallel_sums(const ChannelView& v, std::size_t width, F&& body) {
  const std::int64_t rows = rows_of(v);
  const int threads = threads_for(rows * v.lanes);
  std::vector<double> partial(static_cast<std::size_t>(threads) * width, 0.0);
#pragma omp parallel num_threads(threads)
  {
    const std::int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    body(rows * t / nt, rows * (t + 1) / nt, partial.data() + t * width);
  }
  std::vector<double> total(width, 0.0);
  for (int t = 0; t < threads; ++t) {
    for (std::size_t w = 0; w < width; ++w) total[w] += partial[t * width + w];
  }
  return total;
}

// Splits rows [begin, end) at item boundaries: f(c0, base, i0, i1) for rows
// i0..i1 of one item, whose first channel is c0 and whose values start at
// base (row i's lane l is at base + i * lanes + l).
template <class F>
void for_segments(const ChannelView& v, std::int64_t begin, std::int64_t end, F&& f) {
  for (std::int64_t r = begin; r < end;) {
    const std::int64_t item = r / v.inner, i0 = r - item * v.inner;
    const std::int64_t i1 = std::min(v.inner, i0 + (end - r));
    f(item % v.blocks * v.lanes, item * v.inner * v.lanes, i0, i1);
    r += i1 - i0;
  }
}

template <class Terms>
constexpr bool kRowStaged = requires(Terms t) { t.stage_row(std::int64_t{}); };

// Per-channel sums of two quantities of every value: terms(c, e, p, q) sets
// p and q for value e of channel c. Returns the C sums of p, then the C sums
// of q. LC fixed lanes sum a segment in registers, then once per segment
// into the thread's doubles. Terms with a stage_row(first) member
// (backward's RowStagedTerms and ElementTerms; forward's lambda has none)
// are told each row's first value before its lanes; each thread runs its
// own copy of the terms.
template <int LC, class Terms>
std::vector<double> channel_sums(const ChannelView& v, const Terms& terms) {
  const std::int64_t channels = v.channels(), lanes = LC != 0 ? LC : v.lanes;
  return parallel_sums(v, 2 * channels, [&](std::int64_t begin, std::int64_t end, double* acc) {
    Terms own = terms;
    for_segments(v, begin, end, [&](std::int64_t c0, std::int64_t base, std::int64_t i0, std::int64_t i1) {
      double local[2 * (LC != 0 ? LC : 1)] = {};
      for (std::int64_t i = i0; i < i1; ++i) {
        if constexpr (kRowStaged<Terms>) own.stage_row(base + i * lanes);
#pragma omp simd
        for (std::int64_t l = 0; l < lanes; ++l) {
          double p, q;
          own(c0 + l, base + i * lanes + l, p, q);
          if constexpr (LC != 0) {
            local[l] += p;
            local[LC + l] += q;
          } else {
            acc[c0 + l] += p;
            acc[channels + c0 + l] += q;
          }
        }
      }
      if constexpr (LC != 0) {
        for (int l = 0; l < LC; ++l) {
          acc[c0 + l] += local[l];
          acc[channels + c0 + l] += local[LC + l];
        }
      }
    });
  });
}

// Calls f with the lane count as a compile-time constant for the blocked
// layouts and narrow channels-last tensors (so the lane loop becomes whole
// vectors), 0 for any other count.
template <class F>
void with_lanes(std::int64_t lanes, F&& f) {
  if (lanes == 16) f(std::integral_constant<int, 16>{});
  else if (lanes == 8) f(std::integral_constant<int, 8>{});
  else if (lanes == 4) f(std::integral_constant<int, 4>{});
  else f(std::integral_constant<int, 0>{});
}

// The per-channel constants both directions use, as T, computed the same
// way in each so backward recomputes the forward's values bit for bit.
template <class T>
struct Affine {
  std::vector<T> mean, scale, istd;  // scale = gamma * istd
};

template <class T>
Affine<T> affine(const T* gamma, const T* mean, const T* var, std::int64_t channels, double eps) {
  Affine<T> a{std::vector<T>(channels), std::vector<T>(channels), std::vector<T>(channels)};
  for (std::int64_t c = 0; c < channels; ++c) {
    const double istd = 1.0 / std::sqrt(static_cast<double>(var[c]) + eps);
    a.mean[c] = mean[c];
    a.istd[c] = static_cast<T>(istd);
    a.scale[c] = static_cast<T>(static_cast<double>(gamma[c]) * istd);
  }
  return a;
}

// Backward's per-element quantities: g, the gradient reaching batch norm's
// output, and xhat, its normalised input, from y alone (FromX false) or
// from x.
template <class T, bool FromX>
struct Recover {
  const T *beta, *mean, *scale, *istd, *inv_gamma;
  T slope, inv_slope;

  void operator()(std::int64_t c, T dy, T y, T x, T& g, T& xhat) const {
    // Both sides of each select are computed, so the loop vectorises.
    const T dy_neg = dy * slope;
    if constexpr (FromX) {
      const T centred = x - mean[c];
      const T z = centred * scale[c] + beta[c];
      g = z > 0 ? dy : dy_neg;
      xhat = centred * istd[c];
    } else {
      const T z_neg = y * inv_slope;
      const T z = y > 0 ? y : z_neg;
      g = y > 0 ? dy : dy_neg;
      xhat = (z - beta[c]) * inv_gamma[c];
    }
  }
};

// A stored output value as T (Y is T, or bfloat16 bits under T float),
// converted as the loops load it where rows are not sixteen lanes wide
// (RowStagedTerms covers those that are).
template <class T, class Y>
T value_of(Y y) {
  if constexpr (std::is_same_v<Y, Bf16Bits>) {
    return from_bf16(y);
  } else {
    return y;
  }
}

// An output value as stored.
template <class Y, class T>
Y stored_as(T value) {
  if constexpr (std::is_same_v<Y, Bf16Bits>) {
    return to_bf16(value);
  } else {
    return value;
  }
}

// Sixteen float32 values as bfloat16 (to_bf16 each) at out: one
// instruction where the build targets AVX512-BF16 (vcvtneps2bf16, as
// oneDNN's reorders use there). The portable rounding's selects cost the
// forward's output loop about two fifths of its time.
void store_bf16x16(const float* in, Bf16Bits* out) {
#if defined(__AVX512BF16__) && defined(__AVX512VL__)
  const __m256bh packed = _mm512_cvtneps_pbh(_mm512_loadu_ps(in));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), std::bit_cast<__m256i>(packed));
#else
#pragma omp simd
  for (int k = 0; k < 16; ++k) out[k] = to_bf16(in[k]);
#endif
}

// Sixteen bfloat16 values as float32 at out.
void load_bf16x16(const Bf16Bits* in, float* out) {
#if defined(__AVX512F__)
  const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in)));
  _mm512_storeu_ps(out, _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16)));
#else
  for (int k = 0; k < 16; ++k) out[k] = from_bf16(in[k]);
#endif
}

// Backward's g and xhat value by value (y as T, or bfloat16 bits converted
// as loaded where rows are not sixteen lanes wide). stage_row does nothing:
// it is there so the loops treat these and RowStagedTerms alike.
template <class T, bool FromX, class Y>
struct ElementTerms {
  Recover<T, FromX> recover;
  const T* dy;
  const Y* y;
  const T* x;  // null unless FromX

  void stage_row(std::int64_t) {}
  void at(std::int64_t c, std::int64_t e, T& g, T& xhat) const {
    if constexpr (FromX) {
      recover(c, dy[e], T{0}, x[e], g, xhat);
    } else {
      recover(c, dy[e], value_of<T>(y[e]), T{0}, g, xhat);
    }
  }
  void operator()(std::int64_t c, std::int64_t e, double& p, double& q) const {
    T g, xhat;
    at(c, e, g, xhat);
    p = g;
    q = static_cast<double>(g) * xhat;
  }
};

// Backward's g and xhat from a bfloat16 y in rows of sixteen lanes: each
// row is converted once (stage_row), so the lane loops read float32 as for
// a float32 y. Converting inside those loops (value_of) mixed 2-byte loads
// into their 4- and 8-byte arithmetic, and GCC's vector code for that took
// 6.1 ms against 3.2-3.7 ms staged (backward of an 8x128x104x104 blocked
// activation, 2 threads).
template <bool FromX>
struct RowStagedTerms {
  Recover<float, FromX> recover;
  const float* dy;
  const Bf16Bits* y;
  const float* x;  // null unless FromX
  alignas(64) float row[16] = {};
  std::int64_t first = 0;

  void stage_row(std::int64_t e0) {
    if constexpr (!FromX) load_bf16x16(y + e0, row);
    first = e0;
  }
  void at(std::int64_t c, std::int64_t e, float& g, float& xhat) const {
    if constexpr (FromX) {
      recover(c, dy[e], 0.0f, x[e], g, xhat);
    } else {
      recover(c, dy[e], row[e - first], 0.0f, g, xhat);
    }
  }
  void operator()(std::int64_t c, std::int64_t e, double& p, double& q) const {
    float g, xhat;
    at(c, e, g, xhat);
    p = g;
    q = static_cast<double>(g) * xhat;
  }
};

// Writes one row of values, value(l) for each lane l, as stored: D is T,
// or Bf16Bits (to_bf16; a row of sixteen rounded as a whole by
// store_bf16x16). LC lanes, or `lanes` where LC is 0. Forward's y and
// backward's dx both go through here. A function template of its own, not
// an if constexpr in the generic lambdas that call it: clang 14
// instantiates both sides of such a branch there.
template <int LC, class D, class Value>
void store_row(const Value& value, std::int64_t lanes, D* out) {
  if constexpr (std::is_same_v<D, Bf16Bits> && LC == 16) {
    alignas(64) float row[16];
#pragma omp simd
    for (std::int64_t l = 0; l < 16; ++l) row[l] = value(l);
    store_bf16x16(row, out);
  } else {
    const std::int64_t n = LC != 0 ? LC : lanes;
#pragma omp simd
    for (std::int64_t l = 0; l < n; ++l) out[l] = stored_as<D>(value(l));
  }
}

template <class T, bool FromX, class Y, class D>
void backward_impl(const ChannelView& v, const T* dy, const Y* y, const T* x, const T* gamma, const T* beta,
                   const T* mean, const T* var, double eps, double slope, D* dx, T* dgamma, T* dbeta) {
  const std::int64_t channels = v.channels();
  const Affine<T> a = affine(gamma, mean, var, channels, eps);
  std::vector<T> inv_gamma(channels);
  for (std::int64_t c = 0; c < channels; ++c) inv_gamma[c] = static_cast<T>(1.0 / static_cast<double>(gamma[c]));
  const Recover<T, FromX> rec{beta, a.mean.data(), a.scale.data(), a.istd.data(), inv_gamma.data(),
                              static_cast<T>(slope), static_cast<T>(slope > 0 ? 1.0 / slope : 0.0)};
  with_lanes(v.lanes, [&](auto lane_count) {
    constexpr int LC = decltype(lane_count)::value;
    const std::int64_t lanes = LC != 0 ? LC : v.lanes;
    // A named type chosen here, not an if constexpr on LC: clang 14
    // instantiates both sides of such a branch inside this generic lambda.
    using Terms = std::conditional_t<std::is_same_v<Y, Bf16Bits> && LC == 16, RowStagedTerms<FromX>,
                                     ElementTerms<T, FromX, Y>>;
    const Terms terms{rec, dy, y, x};
    const std::vector<double> sums = channel_sums<LC>(v, terms);
    // dx = k * (g - mean(g) - xhat * mean(g * xhat)), k = gamma / std.
    const double count = static_cast<double>(v.per_channel());
    std::vector<T> ka(channels), kb(channels), kc(channels);
    for (std::int64_t c = 0; c < channels; ++c) {
      const double k = static_cast<double>(gamma[c]) * static_cast<double>(a.istd[c]);
      ka[c] = static_cast<T>(k);
      kb[c] = static_cast<T>(k * sums[c] / count);
      kc[c] = static_cast<T>(k * sums[channels + c] / count);
      dbeta[c] = static_cast<T>(sums[c]);
      dgamma[c] = static_cast<T>(sums[channels + c]);
    }
    parallel_rows(v, [&](std::int64_t begin, std::int64_t end) {
      Terms own = terms;
      for_segments(v, begin, end, [&](std::int64_t c0, std::int64_t base, std::int64_t i0, std::int64_t i1) {
        const T *a0 = ka.data() + c0, *b0 = kb.data() + c0, *k0 = kc.data() + c0;
        for (std::int64_t i = i0; i < i1; ++i) {
          const std::int64_t e0 = base + i * lanes;
          own.stage_row(e0);
          const auto dx_at = [&](std::int64_t l) {
            T g, xhat;
            own.at(c0 + l, e0 + l, g, xhat);
            return a0[l] * g - b0[l] - k0[l] * xhat;
          };
          store_row<LC>(dx_at, lanes, dx + e0);
        }
      });
    });
  });
}

}  // namespace

template <class T>
bool bn_leaky_output_invertible(const T* gamma, const T* beta, std::int64_t channels, double slope,
                                double max_shift_over_scale) {
  if (!(slope >= kMinDivisor)) return false;
  for (std::int64_t c = 0; c < channels; ++c) {
    const double g = std::abs(static_cast<double>(gamma[c])), b = std::abs(static_cast<double>(beta[c]));
    if (!(g >= kMinDivisor && b <= max_shift_over_scale * g)) return false;  // NaN fails too
  }
  return true;
}

template <class T, class Y>
void bn_leaky_forward(const ChannelView& v, const T* x, const T* gamma, const T* beta, double eps, double slope,
                      Y* y, T* mean, T* var) {
  const std::int64_t channels = v.channels();
  // Each channel's first value is subtracted before summing, so the
  // variance does not cancel away when the mean is large against the spread.
  std::vector<double> first(channels);
  for (std::int64_t b = 0; b < v.blocks; ++b) {
    for (std::int64_t l = 0; l < v.lanes; ++l) first[b * v.lanes + l] = x[b * v.inner * v.lanes + l];
  }
  with_lanes(v.lanes, [&](auto lane_count) {
    constexpr int LC = decltype(lane_count)::value;
    const std::int64_t lanes = LC != 0 ? LC : v.lanes;
    const std::vector<double> sums = channel_sums<LC>(v, [x, k = first.data()](std::int64_t c, std::int64_t e,
                                                                             double& p, double& q) {
      const double d = static_cast<double>(x[e]) - k[c];
      p = d;
      q = d * d;
    });
    const double count = static_cast<double>(v.per_channel());
    for (std::int64_t c = 0; c < channels; ++c) {
      const double m = sums[c] / count;
      mean[c] = static_cast<T>(first[c] + m);
      var[c] = static_cast<T>(std::max(0.0, sums[channels + c] / count - m * m));
    }
    const Affine<T> a = affine(gamma, mean, var, channels, eps);
    parallel_rows(v, [&](std::int64_t begin, std::int64_t end) {
      const T s = static_cast<T>(slope);
      for_segments(v, begin, end, [&](std::int64_t c0, std::int64_t base, std::int64_t i0, std::int64_t i1) {
        const T *m = a.mean.data() + c0, *sc = a.scale.data() + c0, *be = beta + c0;
        for (std::int64_t i = i0; i < i1; ++i) {
          const T* xr = x + base + i * lanes;
          const auto y_at = [&](std::int64_t l) {
            const T z = (xr[l] - m[l]) * sc[l] + be[l];
            const T z_neg = z * s;
            return z > 0 ? z : z_neg;
          };
          store_row<LC>(y_at, lanes, y + base + i * lanes);
        }
      });
    });
  });
}

template <class T, class Y, class D>
void bn_leaky_backward(const ChannelView& v, const T* dy, const Y* y, const T* x, const T* gamma, const T* beta,
                       const T* mean, const T* var, double eps, double slope, D* dx, T* dgamma, T* dbeta) {
  if (x != nullptr) {
    backward_impl<T, true>(v, dy, y, x, gamma, beta, mean, var, eps, slope, dx, dgamma, dbeta);
  } else {
    backward_impl<T, false>(v, dy, y, x, gamma, beta, mean, var, eps, slope, dx, dgamma, dbeta);
  }
}

#define YOLO_BN_LEAKY_INSTANTIATE(T, Y, D)                                                                       \
  template void bn_leaky_backward<T, Y, D>(const ChannelView&, const T*, const Y*, const T*, const T*, const T*,  \
                                           const T*, const T*, double, double, D*, T*, T*);
template void bn_leaky_forward<float, float>(const ChannelView&, const float*, const float*, const float*, double,
                                             double, float*, float*, float*);
template void bn_leaky_forward<float, Bf16Bits>(const ChannelView&, const float*, const float*, const float*, double,
                                                double, Bf16Bits*, float*, float*);
template void bn_leaky_forward<double, double>(const ChannelView&, const double*, const double*, const double*,
                                               double, double, double*, double*, double*);
YOLO_BN_LEAKY_INSTANTIATE(float, float, float)
YOLO_BN_LEAKY_INSTANTIATE(float, float, Bf16Bits)
YOLO_BN_LEAKY_INSTANTIATE(float, Bf16Bits, float)
YOLO_BN_LEAKY_INSTANTIATE(float, Bf16Bits, Bf16Bits)
YOLO_BN_LEAKY_INSTANTIATE(double, double, double)
template bool bn_leaky_output_invertible<float>(const float*, const float*, std::int64_t, double, double);
template bool bn_leaky_output_invertible<double>(const double*, const double*, std::int64_t, double, double);
#undef YOLO_BN_LEAKY_INSTANTIATE

}  // namespace ops::kernels

// conv2d's float32 kernels on oneDNN (declared in conv2d.h, namespace
// ops::backend): forward with an optional fused leaky ReLU, backward data and
// backward weights, each primitive cached in the seam's context. Training
// picks Winograd where oneDNN offers it. Also the plain oneDNN convolution
// the benchmarks time beside these.
#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>

#include "core/error.h"
#include "ops/backend/context.h"
#include "ops/backend/dnnl.h"
#include "ops/backend/errors.h"
#include "ops/backend/exec.h"
#include "ops/backend/layout.h"
#include "ops/backend/prepared_weights.h"
#include "ops/conv2d.h"
#include "ops/unary.h"

namespace ops::backend {

namespace {

Shape conv_out_shape(const Shape& x, const Shape& w, const ConvSpec& s) {
  auto out = [&](std::int64_t in, std::int64_t k) {
    return (in + 2 * s.pad - ((k - 1) * s.dilation + 1)) / s.stride + 1;
  };
  return {x[0], w[0], out(x[2], w[2]), out(x[3], w[3])};
}

PrimitiveKey conv_key(Prop prop, const Shape& x, const Shape& w, const ConvSpec& s, std::uint32_t flags,
                      double slope) {
  return {PrimKind::conv, prop, {x, w}, {s.stride, s.pad, s.pad, s.dilation, s.groups}, core::DType::f32, flags,
          slope};
}

constexpr std::uint32_t kWithBias = 1;
constexpr std::uint32_t kLeakyPost = 2;
constexpr std::uint32_t kBf16Output = 8;

// Whether a convolution's activations run channels-last (nhwc) instead of
// the layout oneDNN would choose. Fewer than 16 output channels, or input
// channels that do not fill 16-lane blocks, would be padded to whole blocks
// (up to 4x the bytes, as in a narrow model's first layers) and then leave
// the blocked family before batch norm, through a reorder and oneDNN's slow
// plain-layout batch norm; channels-last has no padding and oneDNN runs its
// convolution, batch norm and eltwise kernels on it directly. The 3-channel
// image is the exception: oneDNN reads it plain into a blocked output.
bool channels_last(const Shape& x, const Shape& w) { return w[0] < 16 || (x[1] % 16 != 0 && x[1] != 3); }

// Training runs float32 3x3 stride-1 convolutions as Winograd F(4x4, 3x3):
// oneDNN's jit_wino_4x3 does forward, backward data and backward weights
// with fewer multiplications than the direct kernel, and measured 1.6-2.4
// times faster on YOLOv3's residual 3x3 layers at 20x20 to 160x160 (2
// threads, AVX-512), hence from 16x16 outputs up. Below that it wins on wide
// layers only (ONEDNN_VERBOSE, forward plus both backward kernels per
// layer): YOLOv3's 512->1024 layers 119 against 70 ms at 13x13 (batch 8),
// 39 against 33 at 10x10 (batch 4), 62 against 46 at 9x9 (batch 8);
// yolov3-tiny's 256->512 ones 29 against 19 at 13x13; but the quick
// config's 64->128 ones 1.5 against 1.3 ms at 8x8 and 2.2 against 2.1 at
// 9x9 (batch 16), within noise. So from 8x8 outputs (below which it was not
// measured) on layers of 256 input channels or more. (Of the 512->1024
// layers' 70 ms, 24 were the weight gradient, which runs direct there: see
// winograd_weight_gradient_fits.) Its rounding differs from the direct
// kernel's by float32 noise (the float32-vs-float64 tests bound both the
// same), but a different rounding is a different training run: the quick
// config's 1/8-width model, with its 64->128 layers at 8x8 on Winograd,
// ended at mAP_area 0.9256 and 0.9322 (seeds 0 and 1) against 0.9422 and
// 0.9490 on the direct kernel. Channels-last layers and bf16 have no
// Winograd kernel.
constexpr std::int64_t kMinWinogradTrainingPixels = 16 * 16;
constexpr std::int64_t kMinWinogradTrainingPixelsWide = 8 * 8;
constexpr std::int64_t kMinWinogradWideChannels = 256;
bool winograd_candidate(const Shape& x, const Shape& w, const ConvSpec& s, bool training) {
  const Shape y = conv_out_shape(x, w, s);
  const std::int64_t floor = x[1] >= kMinWinogradWideChannels ? kMinWinogradTrainingPixelsWide
                                                              : kMinWinogradTrainingPixels;
  return training && !s.bf16 && w[2] == 3 && w[3] == 3 && s.stride == 1 && s.dilation == 1 && s.groups == 1 &&
         x[1] >= 32 && w[0] >= 32 && y[2] * y[3] >= floor && !channels_last(x, w);
}

memory::desc conv_act_md(const Shape& s, bool nhwc, dt type = dt::f32) {
  return nhwc ? memory::desc(to_dims(s), type, tag::nhwc) : memory::desc(to_dims(s), type, tag::any);
}

// What a convolution multiplies in: its input activations, weights and
// output gradient (bf16 under mixed precision). Outputs are float32, but
// for an inference output asked for as bfloat16 (ConvPostOp::bf16_output).
dt conv_math(const ConvSpec& s) { return s.bf16 ? dt::bf16 : dt::f32; }
memory::desc conv_weight_md(const Shape& w, const ConvSpec& s) {
  return {to_dims(conv_weight_dims(w, s.groups)), conv_math(s), tag::any};
}

// The descriptors of a float32 training convolution on Winograd, with a
// bias (the wider case), that the probes below create: oneDNN refuses them
// where it has no Winograd kernel for the geometry.
struct WinogradProbe {
  WinogradProbe(const Shape& x, const Shape& w, const ConvSpec& s)
      : xd(any_md(x)), wd(any_md(w)), bd(any_md({w[0]})), yd(any_md(conv_out_shape(x, w, s))), pad{s.pad, s.pad},
        forward({dnnl::prop_kind::forward_training, kAlgo, xd, wd, bd, yd, one, none, pad, pad}, user_scratchpad(),
                context().engine()) {}
  dnnl::convolution_backward_data::primitive_desc backward_data() const {
    return {{kAlgo, xd, wd, yd, one, none, pad, pad}, user_scratchpad(), context().engine(), forward};
  }
  dnnl::convolution_backward_weights::primitive_desc backward_weights() const {
    return {{kAlgo, xd, wd, bd, yd, one, none, pad, pad}, user_scratchpad(), context().engine(), forward};
  }

  static constexpr dnnl::algorithm kAlgo = dnnl::algorithm::convolution_winograd;
  const memory::desc xd, wd, bd, yd;
  const memory::dims one{1, 1}, none{0, 0}, pad;
  const dnnl::convolution_forward::primitive_desc forward;
};

// Whether oneDNN runs this training convolution as Winograd on this CPU.
// Its kernels need AVX-512, at most one pixel of padding and whole channel
// blocks; rather than restate those rules, the three primitive descriptors
// are created once per geometry (the context remembers the answer), and a
// refusal means the direct kernel.
bool winograd_available(const Shape& x, const Shape& w, const ConvSpec& s) {
  const PrimitiveKey key{PrimKind::conv, Prop::fwd_training, {x, w}, {0, s.pad, s.pad, 0, 0}};
  return context().available(key, [&] {
    const WinogradProbe probe(x, w, s);
    (void)probe.backward_data();
    (void)probe.backward_weights();
  });
}

dnnl::algorithm conv_algorithm(const Shape& x, const Shape& w, const ConvSpec& s, bool training) {
  return winograd_candidate(x, w, s, training) && winograd_available(x, w, s) ? dnnl::algorithm::convolution_winograd
                                                                              : dnnl::algorithm::convolution_direct;
}

// Winograd's weight-gradient kernel sums a transformed gradient per thread
// in its scratchpad, and the process holds one scratchpad sized to the
// largest need: YOLOv3's 512->1024 layers at 13x13, batch 8, need 251 MiB on
// 2 threads, 683 on 8 and 1259 on 16; its 256->512 ones at 26x26 103, 211
// and 355 MiB. Its forward and backward-data kernels need the same at any
// thread count (105 and 65 MiB there). So a layer whose Winograd weight
// gradient would need more than this computes it on the direct kernel and
// keeps Winograd for the other two.
constexpr std::size_t kMaxWinogradWeightGradientScratchpad = std::size_t{128} << 20;
bool winograd_weight_gradient_fits(const Shape& x, const Shape& w, const ConvSpec& s) {
  const PrimitiveKey key{PrimKind::conv, Prop::bwd_weights, {x, w}, {0, s.pad, s.pad, 0, 0}};
  return context().available(key, [&] {
    return WinogradProbe(x, w, s).backward_weights().scratchpad_desc().get_size() <=
           kMaxWinogradWeightGradientScratchpad;
  });
}

dnnl::algorithm conv_weight_gradient_algorithm(const Shape& x, const Shape& w, const ConvSpec& s) {
  const dnnl::algorithm algo = conv_algorithm(x, w, s, true);
  return algo == dnnl::algorithm::convolution_winograd && !winograd_weight_gradient_fits(x, w, s)
             ? dnnl::algorithm::convolution_direct
             : algo;
}

constexpr std::uint32_t kBf16 = 4;
std::uint32_t conv_flags(const ConvSpec& s, std::uint32_t flags) { return s.bf16 ? flags | kBf16 : flags; }

void check_bf16(const ConvSpec& s) {
  if (s.bf16 && !bf16_supported()) {
    throw core::BackendError("conv2d: bfloat16 needs a CPU with AVX512-BF16 (or newer), which this one lacks");
  }
}

void check_bf16_output(const ConvSpec& s, bool training, const ConvPostOp& post) {
  if (post.bf16_output && (training || !s.bf16)) {
    throw core::Error("conv2d: a bfloat16 output is for inference under bf16 only");
  }
}

// oneDNN's relu with a negative slope alpha is exactly leaky ReLU.
dnnl::post_ops fused_leaky(double slope) {
  dnnl::post_ops ops;
  ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, static_cast<float>(slope), 0.0f);
  return ops;
}

// Inference (batch norm folded into the weights) runs the same layers on
// Winograd from 26x26 outputs up: YOLOv3-416's forward at batch 1 went from
// 0.338 to 0.250 s on 2 threads. oneDNN offers no fused leaky ReLU there, so
// it runs as a pass of its own. It runs the training kind of primitive,
// which reads ordinary blocked weights and transforms them on every run
// (into the scratchpad), not the inference kind, whose weights are kept
// transformed: those are 4x the 3x3 ones, cannot be read back, and differ
// with the output size, so the plain fold had to be kept beside them. On
// YOLOv3-416 at batch 1 (2 threads, two runs each, alternating) the
// forward's peak RSS fell from 651-652 to 416 MiB for 0.147-0.149 s a
// forward against 0.142-0.144. Darknet parity and the ONNX runtime checks
// hold at their tolerances.
constexpr std::int64_t kMinWinogradInferencePixels = 26 * 26;
bool winograd_inference_candidate(const Shape& x, const Shape& w, const ConvSpec& s) {
  const Shape y = conv_out_shape(x, w, s);
  return winograd_candidate(x, w, s, true) && y[2] * y[3] >= kMinWinogradInferencePixels;
}

const CacheEntry& conv_forward_entry(const Shape& x, const Shape& w, bool with_bias, const ConvSpec& s,
                                     bool training, const ConvPostOp& post) {
  check_bf16_output(s, training, post);
  const std::uint32_t flags = conv_flags(
      s, (with_bias ? kWithBias : 0) | (post.leaky ? kLeakyPost : 0) | (post.bf16_output ? kBf16Output : 0));
  const Prop prop = training ? Prop::fwd_training : Prop::fwd_inference;
  return context().get<dnnl::convolution_forward>(
      conv_key(prop, x, w, s, flags, post.leaky ? post.slope : 0.0), [&] {
        const Shape y = conv_out_shape(x, w, s);
        const bool nhwc = channels_last(x, w);
        const memory::desc bias_md = with_bias ? any_md({w[0]}) : memory::desc();
        dnnl::primitive_attr attr = user_scratchpad();
        if (post.leaky) attr.set_post_ops(fused_leaky(post.slope));
        // Inference on Winograd asks for the training kind: its weights are
        // then ordinary blocked ones, transformed on every run, not kept
        // transformed (see kMinWinogradInferencePixels).
        const auto make = [&](dnnl::algorithm algo) {
          const bool transform_per_run = training || algo == dnnl::algorithm::convolution_winograd;
          dnnl::convolution_forward::desc d(
              transform_per_run ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, algo,
              conv_act_md(x, nhwc, conv_math(s)), conv_weight_md(w, s), bias_md,
              conv_act_md(y, nhwc, post.bf16_output ? dt::bf16 : dt::f32),
              {s.stride, s.stride}, {s.dilation - 1, s.dilation - 1}, {s.pad, s.pad}, {s.pad, s.pad});
          return dnnl::convolution_forward::primitive_desc(d, attr, context().engine());
        };
        if (!training && winograd_inference_candidate(x, w, s)) {
          try {
            return make(dnnl::algorithm::convolution_winograd);
          } catch (const dnnl::error&) {
            // oneDNN 2.6 refuses Winograd with a leaky post-op; newer ones may not
          }
          if (post.leaky) {
            // Without the fused activation; conv2d_forward then runs it as a pass of its own.
            attr = user_scratchpad();
            try {
              return make(dnnl::algorithm::convolution_winograd);
            } catch (const dnnl::error&) {
              attr.set_post_ops(fused_leaky(post.slope));
            }
          }
        }
        return make(conv_algorithm(x, w, s, training));
      });
}

}  // namespace

// oneDNN 2.6 has no bf16 Winograd. On YOLOv3-416 at batch 8 (2 threads,
// AVX512-BF16, ONEDNN_VERBOSE over 8 passes), float32 Winograd beat the
// bf16 direct kernel by 10-20% forward plus backward on the 128->256 3x3
// layers at 52x52 and 56x56 and the 256->512 ones at 26x26 and 28x28, and
// lost by 5-40% on the 64->128 ones at 104x104 and the 32->64 one at
// 208x208: hence at least 128 input channels and 26x26 outputs. CPUs with
// AMX run bf16 on its tile units, far faster than AVX-512 (not measured
// here): there every layer stays bf16.
constexpr std::int64_t kMinFloat32WinogradUnderBf16Channels = 128;
constexpr std::int64_t kMinFloat32WinogradUnderBf16Pixels = 26 * 26;

bool conv2d_trains_on_winograd(const Shape& x, const Shape& w, const ConvSpec& s) {
  return guarded("conv2d", [&] { return conv_algorithm(x, w, s, true) == dnnl::algorithm::convolution_winograd; });
}

bool conv2d_weight_gradient_on_winograd(const Shape& x, const Shape& w, const ConvSpec& s) {
  return guarded("conv2d", [&] {
    return conv_weight_gradient_algorithm(x, w, s) == dnnl::algorithm::convolution_winograd;
  });
}

bool conv2d_bf16_training_prefers_float32_winograd(const Shape& x, const Shape& w, const ConvSpec& s) {
  if (!s.bf16 || !bf16_supported() || amx_supported()) return false;
  ConvSpec f32 = s;
  f32.bf16 = false;
  const Shape y = conv_out_shape(x, w, f32);
  if (x[1] < kMinFloat32WinogradUnderBf16Channels || y[2] * y[3] < kMinFloat32WinogradUnderBf16Pixels) return false;
  // Measured with Winograd's weight gradient: where that would pass its
  // scratchpad cap (the 256->512 layers at 26x26, batch 8, from about 4
  // threads), the layer stays bf16.
  return guarded("conv2d", [&] {
    return conv_weight_gradient_algorithm(x, w, f32) == dnnl::algorithm::convolution_winograd;
  });
}

namespace {

// Binds x to the forward's source converted into a new bfloat16 tensor in
// `want`, which it returns; undefined (nothing bound) where x is bfloat16
// already or `want` is not 16-channel blocks. Not channels-last: in the
// networks we train, x there is batch norm's float32 output (narrow layers
// keep it so), which batch norm saves for its own backward, so the copy
// would only add memory (the quick config's model peaked at 382 against 360
// MiB, at the same speed).
Tensor bind_bf16_copy(Exec& ex, const memory::desc& want, const Tensor& x) {
  if (want.data_type() != dt::bf16 || holds_bfloat16(x)) return {};
  if (layout_of(want, x.shape()) != Layout::nChw16c) return {};
  const Source stored = ex.read_as_stored(x);
  Tensor copy = ex.output_in(DNNL_ARG_SRC, x.shape(), Layout::nChw16c, dt::bf16);
  reorder(stored.mem, ex.arg(DNNL_ARG_SRC));
  return copy;
}

}  // namespace

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const ConvSpec& spec, bool training,
                      const ConvPostOp& post, Tensor* x_as_read) {
  check_bf16(spec);
  return guarded("conv2d", [&] {
    const auto& e = conv_forward_entry(x.shape(), w.shape(), b.defined(), spec, training, post);
    const auto& pd = pd_of<dnnl::convolution_forward>(e);
    Exec ex;
    Tensor copy = x_as_read != nullptr ? bind_bf16_copy(ex, pd.src_desc(), x) : Tensor();
    if (!copy.defined()) ex.input(DNNL_ARG_SRC, pd.src_desc(), x);
    if (x_as_read != nullptr) *x_as_read = copy;
    ex.input(DNNL_ARG_WEIGHTS, pd.weights_desc(), w, plain_md(conv_weight_dims(w.shape(), spec.groups)));
    if (b.defined()) ex.input(DNNL_ARG_BIAS, pd.bias_desc(), b);
    Tensor y = ex.output_chosen(DNNL_ARG_DST, pd.dst_desc(), conv_out_shape(x.shape(), w.shape(), spec));
    ex.run(e);
    if (post.leaky && pd.get_primitive_attr().get_post_ops().len() == 0) return leaky_relu_forward(y, post.slope);
    return y;
  }, x, w, b);
}

Tensor conv2d_prepare_inference_weights(const Tensor& w, const Shape& x_shape, bool with_bias, const ConvSpec& spec,
                                        const ConvPostOp& post) {
  check_bf16(spec);
  return guarded("conv2d prepare weights", [&] {
    const auto& e = conv_forward_entry(x_shape, w.shape(), with_bias, spec, false, post);
    const memory plain(plain_md(conv_weight_dims(w.shape(), spec.groups)), context().engine(), ptr(w));
    auto prepared = std::make_shared<PreparedWeights>(plain, pd_of<dnnl::convolution_forward>(e).weights_desc());
    return Tensor::from_physical(w.shape(), core::DType::f32, std::move(prepared));
  }, w);
}

bool conv2d_prepared_weights_fit(const Tensor& w, const Shape& x_shape, bool with_bias, const ConvSpec& spec,
                                 const ConvPostOp& post) {
  const auto layout = w.physical_layout();
  const auto* prepared = dynamic_cast<const PreparedWeights*>(layout.get());
  if (prepared == nullptr) return true;  // plain bytes convert to any layout
  check_bf16(spec);
  return guarded("conv2d prepared weights", [&] {
    const auto& e = conv_forward_entry(x_shape, w.shape(), with_bias, spec, false, post);
    return prepared->mem().get_desc() == pd_of<dnnl::convolution_forward>(e).weights_desc();
  }, w);
}

namespace {

const CacheEntry& conv_backward_data_entry(const Shape& x_shape, const Shape& ws, const ConvSpec& spec,
                                           const Shape& y_shape) {
  return context().get<dnnl::convolution_backward_data>(
      conv_key(Prop::bwd_data, x_shape, ws, spec, conv_flags(spec, 0), 0.0), [&] {
        const auto& hint = pd_of<dnnl::convolution_forward>(conv_forward_entry(x_shape, ws, false, spec, true, {}));
        const bool nhwc = channels_last(x_shape, ws);
        dnnl::convolution_backward_data::desc d(
            conv_algorithm(x_shape, ws, spec, true), conv_act_md(x_shape, nhwc), conv_weight_md(ws, spec),
            conv_act_md(y_shape, nhwc, conv_math(spec)), {spec.stride, spec.stride},
            {spec.dilation - 1, spec.dilation - 1}, {spec.pad, spec.pad}, {spec.pad, spec.pad});
        return dnnl::convolution_backward_data::primitive_desc(d, user_scratchpad(), context().engine(), hint);
      });
}

const CacheEntry& conv_backward_weights_entry(const Shape& x_shape, const Shape& w_shape, const ConvSpec& spec,
                                              bool with_bias, const Shape& y_shape) {
  return context().get<dnnl::convolution_backward_weights>(
      conv_key(Prop::bwd_weights, x_shape, w_shape, spec, conv_flags(spec, with_bias ? kWithBias : 0), 0.0), [&] {
        const auto& hint =
            pd_of<dnnl::convolution_forward>(conv_forward_entry(x_shape, w_shape, with_bias, spec, true, {}));
        const memory::desc bias_md = with_bias ? any_md({w_shape[0]}) : memory::desc();
        const bool nhwc = channels_last(x_shape, w_shape);
        dnnl::convolution_backward_weights::desc d(
            conv_weight_gradient_algorithm(x_shape, w_shape, spec), conv_act_md(x_shape, nhwc, conv_math(spec)),
            any_md(conv_weight_dims(w_shape, spec.groups)), bias_md, conv_act_md(y_shape, nhwc, conv_math(spec)),
            {spec.stride, spec.stride}, {spec.dilation - 1, spec.dilation - 1}, {spec.pad, spec.pad},
            {spec.pad, spec.pad});
        return dnnl::convolution_backward_weights::primitive_desc(d, user_scratchpad(), context().engine(), hint);
      });
}

// dx from dy already in the primitive's type and layout (diff_dst).
Tensor run_backward_data(Exec& ex, const CacheEntry& e, const memory& diff_dst, const Tensor& w,
                         const Shape& x_shape, const ConvSpec& spec) {
  const auto& pd = pd_of<dnnl::convolution_backward_data>(e);
  ex.bind(DNNL_ARG_DIFF_DST, diff_dst);
  ex.input(DNNL_ARG_WEIGHTS, pd.weights_desc(), w, plain_md(conv_weight_dims(w.shape(), spec.groups)));
  Tensor dx = ex.output_chosen(DNNL_ARG_DIFF_SRC, pd.diff_src_desc(), x_shape);
  ex.run(e);
  return dx;
}

// dw (and db) from x and dy already in the primitive's type and layout.
ConvWeightGrads run_backward_weights(Exec& ex, const CacheEntry& e, const Tensor& x, const memory& diff_dst,
                                     const Shape& w_shape, const ConvSpec& spec, bool with_bias) {
  const auto& pd = pd_of<dnnl::convolution_backward_weights>(e);
  ConvWeightGrads g;
  g.dw = Tensor::empty(w_shape, core::DType::f32);
  ex.input(DNNL_ARG_SRC, pd.src_desc(), x);
  ex.bind(DNNL_ARG_DIFF_DST, diff_dst);
  ex.output(DNNL_ARG_DIFF_WEIGHTS, pd.diff_weights_desc(), g.dw, plain_md(conv_weight_dims(w_shape, spec.groups)));
  if (with_bias) {
    g.db = Tensor::empty({w_shape[0]}, core::DType::f32);
    ex.output(DNNL_ARG_DIFF_BIAS, pd.diff_bias_desc(), g.db);
  }
  ex.run(e);
  return g;
}

}  // namespace

Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const Shape& x_shape, const ConvSpec& spec) {
  check_bf16(spec);
  return guarded("conv2d backward data", [&] {
    const auto& e = conv_backward_data_entry(x_shape, w.shape(), spec, dy.shape());
    Exec ex;
    const memory diff_dst =
        ex.convert(ex.read_as_stored(dy), pd_of<dnnl::convolution_backward_data>(e).diff_dst_desc());
    return run_backward_data(ex, e, diff_dst, w, x_shape, spec);
  }, dy, w);
}

ConvWeightGrads conv2d_backward_weights(const Tensor& x, const Tensor& dy, const Shape& w_shape, const ConvSpec& spec,
                                        bool with_bias) {
  check_bf16(spec);
  return guarded("conv2d backward weights", [&] {
    const auto& e = conv_backward_weights_entry(x.shape(), w_shape, spec, with_bias, dy.shape());
    Exec ex;
    const memory diff_dst =
        ex.convert(ex.read_as_stored(dy), pd_of<dnnl::convolution_backward_weights>(e).diff_dst_desc());
    return run_backward_weights(ex, e, x, diff_dst, w_shape, spec, with_bias);
  }, x, dy);
}

ConvGrads conv2d_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const ConvSpec& spec, bool with_bias) {
  check_bf16(spec);
  return guarded("conv2d backward", [&] {
    const auto& data = conv_backward_data_entry(x.shape(), w.shape(), spec, dy.shape());
    const auto& weights = conv_backward_weights_entry(x.shape(), w.shape(), spec, with_bias, dy.shape());
    // One conversion of dy (to bf16 under mixed precision, none where
    // batch_norm_leaky held it so already) serves both primitives: the copy
    // lives in data_ex's scratch until both have run.
    Exec data_ex;
    const auto& data_pd = pd_of<dnnl::convolution_backward_data>(data);
    const memory diff_dst = data_ex.convert(data_ex.read_as_stored(dy), data_pd.diff_dst_desc());
    ConvGrads g;
    g.dx = run_backward_data(data_ex, data, diff_dst, w, x.shape(), spec);
    Exec weights_ex;
    // convert() reads only the memory and its descriptor, not the layout tag.
    const auto& weights_pd = pd_of<dnnl::convolution_backward_weights>(weights);
    const memory weights_diff_dst = weights_ex.convert(Source{diff_dst}, weights_pd.diff_dst_desc());
    static_cast<ConvWeightGrads&>(g) =
        run_backward_weights(weights_ex, weights, x, weights_diff_dst, w.shape(), spec, with_bias);
    return g;
  }, dy, x, w);
}

struct PlainConvBench::Impl {
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data bwd_data;
  dnnl::convolution_backward_weights bwd_weights;
  std::unordered_map<int, memory> fwd_args, data_args, weights_args;
};

PlainConvBench::PlainConvBench(const Shape& x, const Shape& w, const ConvSpec& s) : impl_(std::make_unique<Impl>()) {
  guarded("conv2d plain benchmark", [&] {
    const dnnl::engine& eng = context().engine();
    const Shape y = conv_out_shape(x, w, s);
    const memory::desc wd = any_md(conv_weight_dims(w, s.groups)), bd;  // Darknet's BN convolutions have no bias
    const memory::dims st{s.stride, s.stride}, dil{s.dilation - 1, s.dilation - 1}, pad{s.pad, s.pad};
    const auto algo = dnnl::algorithm::convolution_direct;
    dnnl::convolution_forward::primitive_desc fpd(
        {dnnl::prop_kind::forward_training, algo, any_md(x), wd, bd, any_md(y), st, dil, pad, pad}, eng);
    dnnl::convolution_backward_data::primitive_desc dpd({algo, any_md(x), wd, any_md(y), st, dil, pad, pad}, eng, fpd);
    dnnl::convolution_backward_weights::primitive_desc wpd({algo, any_md(x), wd, bd, any_md(y), st, dil, pad, pad},
                                                           eng, fpd);
    auto fill = [&](const memory::desc& md) {
      memory m(md, eng);
      float* p = static_cast<float*>(m.get_data_handle());
      for (std::size_t i = 0; i < md.get_size() / sizeof(float); ++i) p[i] = 0.01f * static_cast<float>(i % 97);
      return m;
    };
    impl_->fwd = dnnl::convolution_forward(fpd);
    impl_->bwd_data = dnnl::convolution_backward_data(dpd);
    impl_->bwd_weights = dnnl::convolution_backward_weights(wpd);
    impl_->fwd_args = {{DNNL_ARG_SRC, fill(fpd.src_desc())}, {DNNL_ARG_WEIGHTS, fill(fpd.weights_desc())}, {DNNL_ARG_DST, fill(fpd.dst_desc())}};
    impl_->data_args = {{DNNL_ARG_DIFF_DST, fill(dpd.diff_dst_desc())}, {DNNL_ARG_WEIGHTS, fill(dpd.weights_desc())},
                        {DNNL_ARG_DIFF_SRC, fill(dpd.diff_src_desc())}};
    impl_->weights_args = {{DNNL_ARG_SRC, fill(wpd.src_desc())}, {DNNL_ARG_DIFF_DST, fill(wpd.diff_dst_desc())},
                           {DNNL_ARG_DIFF_WEIGHTS, fill(wpd.diff_weights_desc())}};
    return 0;
  });
}

PlainConvBench::~PlainConvBench() = default;

void PlainConvBench::forward() {
  impl_->fwd.execute(context().stream(), impl_->fwd_args);
  context().stream().wait();
}

void PlainConvBench::backward() {
  impl_->bwd_data.execute(context().stream(), impl_->data_args);
  impl_->bwd_weights.execute(context().stream(), impl_->weights_args);
  context().stream().wait();
}

}  // namespace ops::backend

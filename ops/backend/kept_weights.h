// Convolution weights converted once per optimizer update instead of once
// per pass (KeepConvertedWeights in dnnl.h): the conversions kept while a
// guard lives. Only conversions to bfloat16 (mixed precision) are kept,
// copies half the weights' size each. Float32 layout copies
// are not kept: at YOLOv3-320, batch 4 x 4 passes, keeping them cost 480
// MiB of peak memory (1717 to 2200) for about 40 ms of oneDNN's reorder
// time a pass, and the step times did not tell the two apart.
// Internal to the seam (includes dnnl.hpp).
#pragma once

#include <optional>
#include <oneapi/dnnl/dnnl.hpp>

#include "core/tensor.h"

namespace ops::backend {

// t's values (its plain bytes seen through `plain`) in `want`: the copy
// kept from an earlier pass while t's storage has not changed since, else
// a new one, converted now and kept. Nothing (the caller converts into
// scratch as usual) when `want` is not bfloat16 (float32 copies are not
// kept, see above), when no KeepConvertedWeights lives, or while planning,
// which converts nothing.
std::optional<dnnl::memory> kept_conversion(const core::Tensor& t, const dnnl::memory& plain,
                                            const dnnl::memory::desc& want);

// How many conversions are kept now (tests).
std::size_t kept_conversion_count();

}  // namespace ops::backend

// Convolution weights converted once per optimizer update instead of once
// per pass (KeepConvertedWeights in dnnl.h): the conversions kept while a
// guard lives. Internal to the seam (includes dnnl.hpp).
#pragma once

#include <optional>
#include <oneapi/dnnl/dnnl.hpp>

#include "core/tensor.h"

namespace ops::backend {

// t's values (its plain bytes seen through `plain`) in `want`: the copy
// kept from an earlier pass while t's storage has not changed since, else
// a new one, converted now and kept. Nothing (the caller converts into
// scratch as usual) when no KeepConvertedWeights lives, or while planning,
// which converts nothing.
std::optional<dnnl::memory> kept_conversion(const core::Tensor& t, const dnnl::memory& plain,
                                            const dnnl::memory::desc& want);

// How many conversions are kept now (tests).
std::size_t kept_conversion_count();

}  // namespace ops::backend

// Every op `yolo op` knows, listed once. Each op registers its specs
// (ops/registry.h) from its own .cpp file through the function declared
// here, and register_all_ops calls them in the order `yolo op --list` shows.
//
// Why explicit calls rather than a static registrar object in each op file:
// ops is a static library, and the linker pulls an object file out of it
// only when something references a symbol in it, so a registration made by
// a static initialiser alone can be dropped (its op silently missing from
// `yolo op`) unless every executable links the library whole. A call from
// here references each op's file and fixes the order. Adding an op: its
// file pair and test, its line in ops/CMakeLists.txt, and its two lines here.
#pragma once

#include "ops/registry.h"

namespace ops {

void register_binary_ops(OpRegistry& registry);          // add, sub, mul, div
void register_matmul(OpRegistry& registry);              // matmul
void register_unary_ops(OpRegistry& registry);           // neg, exp, log, sqrt, sigmoid, relu, pow, leaky_relu
void register_reduce_ops(OpRegistry& registry);          // sum, mean
void register_shape_ops(OpRegistry& registry);           // reshape, permute, transpose, slice, concat
void register_conv2d(OpRegistry& registry);              // conv2d
void register_batch_norm2d(OpRegistry& registry);        // batch_norm2d
void register_batch_norm_leaky(OpRegistry& registry);    // batch_norm_leaky
void register_upsample_nearest2d(OpRegistry& registry);  // upsample_nearest2d
void register_maxpool2d(OpRegistry& registry);           // maxpool2d
void register_yolo_loss(OpRegistry& registry);           // yolo_loss

inline void register_all_ops(OpRegistry& registry) {
  for (auto* register_ops : {register_binary_ops, register_matmul, register_unary_ops, register_reduce_ops,
                             register_shape_ops, register_conv2d, register_batch_norm2d, register_batch_norm_leaky,
                             register_upsample_nearest2d, register_maxpool2d, register_yolo_loss}) {
    register_ops(registry);
  }
}

}  // namespace ops

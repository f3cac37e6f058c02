// Readying multi-scale training's input sizes before its first step.
//
// The first training step at an input size the process has not met creates
// that size's oneDNN primitives (kernels compiled on the spot) and takes
// activation buffers whose pages the system must fault in and zero. Without
// preparation the first step at each new size cost up to 1.8 x a repeated
// one (README, speed), and multi-scale training meets ten sizes (320..608).
// prepare_training_sizes() runs one training pass per size in plan-only mode
// (ops::backend::PlanOnly: forward, loss and backward with their primitives
// created and buffers faulted in, no arithmetic), largest size first, so the
// buffer cache ends up holding buffers that serve every smaller size too.
// prepare_inference_sizes() does the same for inference forwards.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "core/tape.h"
#include "core/tensor.h"
#include "models/darknet_network.h"

namespace models {

// The loss a training step differentiates, from the network's heads at a
// square input of `size` pixels.
using TrainingLoss =
    std::function<core::Tensor(core::Tape& tape, const std::vector<core::Tensor>& heads, int size)>;

struct SizePreparation {
  std::vector<int> sizes;      // prepared, largest first
  double seconds = 0;          // wall time of the preparation
  std::size_t primitives = 0;  // oneDNN primitives it created
};

// One plan-only training pass of `batch` images per size in `sizes`
// (duplicates ignored). The network must be in training mode; its
// parameters, gradients and batch-norm statistics are left as they were.
// Throws what a training pass at those sizes would throw (shapes the
// network cannot take).
SizePreparation prepare_training_sizes(const DarknetNetwork& network, std::vector<int> sizes, int batch,
                                       const TrainingLoss& loss);

// The same for inference: one plan-only inference forward of `batch`
// images per size, for a network in inference mode that will meet several
// input sizes (a program taking images of a few sizes; the forward rows of
// yolo bench). Call it before serving: plan-only mode holds for the whole
// process, so a forward running on another thread meanwhile would compute
// nothing. Inference keeps nothing else to restore. The folded weights
// are prepared for real (they are kept), so the last, smallest size's
// layout is the one held afterwards; a size that reads another layout
// (Winograd's, see ops::FoldedWeights) still prepares its weights on its
// first forward.
SizePreparation prepare_inference_sizes(const DarknetNetwork& network, std::vector<int> sizes, int batch);

}  // namespace models

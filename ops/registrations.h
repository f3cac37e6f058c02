// One registration function per op family; op_registry() calls each once.
#pragma once

#include "ops/registry.h"

namespace ops {

void register_basic_ops(OpRegistry& registry);
void register_cnn_ops(OpRegistry& registry);
void register_yolo_loss_op(OpRegistry& registry);

}  // namespace ops

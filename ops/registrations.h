// How ops reach `yolo op`. Each op NAME listed in YOLO_OPS (ops/CMakeLists.txt)
// defines, in ops/NAME.cpp,
//
//   void register_NAME(OpRegistry& registry);
//
// which adds its specs (ops/registry.h). register_all_ops, generated from
// that list into the build folder, calls them in list order; op_registry()
// calls it once.
//
// Why generated calls rather than a static registrar object in each op file:
// ops is a static library, and the linker pulls an object file out of it
// only when something references a symbol in it, so a registration made by
// a static initialiser alone can be dropped (its op silently missing from
// `yolo op`) unless every executable links the library whole. A call
// references each op's file and fixes the order.
#pragma once

#include "ops/registry.h"

namespace ops {

void register_all_ops(OpRegistry& registry);

}  // namespace ops

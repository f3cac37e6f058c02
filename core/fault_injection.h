// Crash points for the fault-injection tests (tests/tools/train_*_check.sh).
//
// With the environment variable YOLO_FAULT_KILL=NAME[:N[:SUFFIX]] set, the
// N-th pass (default: the first) through fault_point(NAME, subject) whose
// subject ends with SUFFIX (default: any) kills the process with SIGKILL,
// exactly as `kill -9` would at that moment: no handler, no flush, no
// destructor runs. A test can so place a kill inside a checkpoint write
// (`write.partial:3:.ckpt`) or an evaluation instead of hoping that a timer
// lands there. YOLO_FAULT_STOP (same form) stops the process with SIGSTOP
// instead, so a test can change the world under it (replace a folder) at a
// known moment and let it go on with SIGCONT. Without the variables (every
// normal run) a point costs two untaken branches.
//
// Points (subject): write.partial (the file being written atomically, with
// half its bytes in the temporary file), write.before_rename (the same,
// written and synced but not renamed), checkpoint.before_publish and
// checkpoint.before_prune (around pointing last.ckpt at a new checkpoint),
// metrics.step_appended and metrics.eval_appended (a metrics.jsonl line
// written), eval.started (an evaluation begins; its step's checkpoint is
// published), eval.batch (a batch of validation images detected),
// step.updated (the optimizer stepped, nothing logged yet).
#pragma once

#include <string_view>

namespace core {

void fault_point(std::string_view name, std::string_view subject = {});

}  // namespace core

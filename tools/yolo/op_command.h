// `yolo op`: runs one registered op on .npy inputs and writes its outputs
// (and, with a cotangent, its input gradients) as .npy files.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace yolo {

struct OpCommandArgs {
  std::string op;
  std::vector<std::string> inputs;  // NAME=FILE.npy
  std::vector<std::string> attrs;   // KEY=VALUE
  std::string grad_out;             // cotangent of the first output, optional
  std::string out_dir;
  bool list = false;
};

// Throws core::Error subclasses with a message naming the op and the problem.
void run_op_command(const OpCommandArgs& args, std::ostream& out);

}  // namespace yolo

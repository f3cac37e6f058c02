// `yolo demo`: fits a small two-layer perceptron with the tape and plain SGD
// and prints the loss falling. It shows the library working end to end until
// the training command exists.
#pragma once

#include <cstdint>
#include <ostream>

namespace yolo {

struct DemoArgs {
  int steps = 400;
  double learning_rate = 0.1;
  std::uint64_t seed = 0;
};

// Returns the final loss.
double run_demo(const DemoArgs& args, std::ostream& out);

}  // namespace yolo

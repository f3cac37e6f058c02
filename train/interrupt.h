// Ctrl-C during training. SIGINT only sets a flag, which the loop reads at
// the end of each step to write a checkpoint and stop cleanly. The flag is
// process-wide because a signal handler can reach nothing else; a guard
// object owns the handler for its lifetime.
#pragma once

#include <csignal>

namespace train {

class InterruptGuard {
 public:
  // Clears the flag and installs the handler.
  InterruptGuard();
  // Puts the previous handler back, on every exit path.
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  // Whether Ctrl-C came (or request() was called) since construction.
  bool requested() const;
  // Counts as a Ctrl-C: another rank of a distributed run got one.
  void request();

 private:
  using Handler = void (*)(int);
  Handler previous_;
};

}  // namespace train

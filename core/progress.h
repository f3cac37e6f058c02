// Progress of a long loop over items (images of an evaluation, of `yolo
// detect` over a folder): items done, items per second and the time left.
// On a terminal one line is redrawn in place as a bar; elsewhere (a log
// file, CI) a line is printed at every tenth of the way, so logs stay short.
#pragma once

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <string>

namespace core {

class Progress {
 public:
  // `what` names the loop ("eval"), `unit` its items ("images"). `terminal`
  // picks the redrawn bar; is_terminal() tells whether a stream is one.
  Progress(std::ostream& out, std::string what, std::string unit, std::size_t total, bool terminal);

  // `done` items of `total` are finished. The last call (done == total)
  // ends the bar's line and prints the total time and rate.
  void update(std::size_t done);

  // Whether standard output (1) or standard error (2) is a terminal.
  static bool is_terminal(int fd);

 private:
  std::ostream& out_;
  std::string what_, unit_;
  std::size_t total_ = 0;
  bool terminal_ = false;
  int tenths_printed_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// Seconds as "1h02m", "3m05s" or "12s".
std::string format_eta(double seconds);

}  // namespace core

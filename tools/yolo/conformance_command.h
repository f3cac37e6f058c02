// `yolo conformance OP FILE.json`: runs an op on every case of a conformance
// vector file and compares with the expected results at the tolerances its
// documentation states. Only yolo_loss has vectors (docs/yolo_loss.md,
// 'Conformance files').
#pragma once

#include <ostream>
#include <string>

namespace yolo {

struct ConformanceArgs {
  std::string op;
  std::string file;
};

// Prints one line per case and dtype, then "N passed, M failed". Returns the
// exit code: 0 when everything passed, 1 otherwise. Throws core::Error
// subclasses for an unknown op or an unreadable file.
int run_conformance_command(const ConformanceArgs& args, std::ostream& out);

}  // namespace yolo

// The `yolo` command line: one executable, one subcommand per task.
#pragma once

#include <iosfwd>

namespace yolo {

// Parses argv and runs the chosen subcommand. Returns the process exit code;
// errors are reported on `err` with the subcommand's name, never thrown.
int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace yolo

#include "tools/yolo/cli.h"

#include <CLI/CLI.hpp>

#include <iostream>

#include "core/error.h"
#include "tools/yolo/conformance_command.h"
#include "tools/yolo/demo_command.h"
#include "tools/yolo/op_command.h"

namespace yolo {

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"yolo: a CPU training framework for YOLOv3 detectors"};
  app.require_subcommand(1);

  OpCommandArgs op_args;
  CLI::App* op = app.add_subcommand("op", "Run one op on .npy inputs and write its outputs and gradients");
  op->add_option("name", op_args.op, "Op name (see --list)");
  op->add_option("--in", op_args.inputs, "Input as NAME=FILE.npy (repeatable)")->allow_extra_args(false);
  op->add_option("--attr", op_args.attrs, "Attribute as KEY=VALUE (repeatable)")->allow_extra_args(false);
  op->add_option("--grad-out", op_args.grad_out, "Cotangent of the first output (.npy); writes grad_<input>.npy");
  op->add_option("--out", op_args.out_dir, "Output directory (created if missing)");
  op->add_flag("--list", op_args.list, "List every op with inputs, outputs and attributes");

  DemoArgs demo_args;
  CLI::App* demo = app.add_subcommand("demo", "Fit a small network with the tape and print the loss falling");
  demo->add_option("--steps", demo_args.steps, "Optimizer steps")->check(CLI::PositiveNumber);
  demo->add_option("--lr", demo_args.learning_rate, "Learning rate")->check(CLI::PositiveNumber);
  demo->add_option("--seed", demo_args.seed, "Random seed");

  ConformanceArgs conformance_args;
  CLI::App* conformance = app.add_subcommand("conformance", "Check an op against a file of conformance vectors");
  conformance->add_option("op", conformance_args.op, "Op name (yolo_loss)")->required();
  conformance->add_option("file", conformance_args.file, "Vector file (.json)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }

  const char* command = app.get_subcommands().front()->get_name().c_str();
  try {
    if (op->parsed()) run_op_command(op_args, out);
    else if (demo->parsed()) run_demo(demo_args, out);
    else if (conformance->parsed()) return run_conformance_command(conformance_args, out);
    return 0;
  } catch (const std::exception& e) {
    // Library errors already name the op, file or key at fault.
    err << "yolo " << command << ": error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace yolo

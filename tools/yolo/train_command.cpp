#include "tools/yolo/train_command.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "core/error.h"
#include "models/model_file.h"
#include "train/config_loader.h"
#include "train/distributed.h"
#include "train/plot.h"
#include "train/run_dir.h"
#include "train/trainer.h"

namespace yolo {

namespace fs = std::filesystem;

namespace {

// YOLO_FAULT_NAN_STEP=N, for the fault-injection tests only: step N's first
// input image gets a NaN (TrainOptions::nan_at_step).
std::int64_t nan_step_from_environment() {
  const char* env = std::getenv("YOLO_FAULT_NAN_STEP");
  if (env == nullptr || *env == '\0') return 0;
  char* end = nullptr;
  const long long step = std::strtoll(env, &end, 10);
  if (*end != '\0' || step <= 0) {
    throw core::ConfigError(fmt::format("YOLO_FAULT_NAN_STEP must be a positive step number, got '{}'", env));
  }
  return step;
}

// After a failed write (full disk, a vanished or unwritable run directory)
// the run stops rather than train on without checkpoints. The message then
// says what is left to continue from: last.ckpt, read back in full
// (checksum included) so the claim that it is intact is checked, not assumed.
std::string last_good_checkpoint(const std::string& run_dir) {
  const std::string path = (fs::path(run_dir) / "checkpoints" / "last.ckpt").string();
  std::error_code ec;
  if (!fs::exists(path, ec)) return fmt::format("there is no {} to continue from", path);
  try {
    const models::LoadedCheckpoint ckpt = models::load_model_checkpoint(path);
    const auto extra = nlohmann::json::parse(ckpt.extra_json, nullptr, false);
    const std::int64_t step = extra.is_object() ? extra.value("step", std::int64_t{-1}) : -1;
    return fmt::format("the last good checkpoint {} (step {}) was read back intact; continue with "
                       "`yolo train --resume {}` once the cause is fixed",
                       path, step, run_dir);
  } catch (const std::exception& e) {
    return fmt::format("the last checkpoint cannot be read back either: {}", e.what());
  }
}

// A new run never appends to another run's files: a folder that holds one is
// refused unless --overwrite says to clear it (rank 0 clears, after every
// rank has looked).
void claim_run_dir(const std::string& run_dir, bool overwrite) {
  const bool taken = train::RunDir::holds_run(run_dir);
  if (taken && !overwrite) {
    throw core::ConfigError(fmt::format(
        "train: {} already holds a run (metrics.jsonl, config.yml or checkpoints); continue it with "
        "`yolo train --resume {}`, start it afresh with --overwrite (its metrics, plots and checkpoints are "
        "deleted), or name another --run-dir",
        run_dir, run_dir));
  }
  train::Communicator& comm = train::communicator();
  comm.barrier();
  if (taken && comm.rank() == 0) train::RunDir::clear_run(run_dir);
}

}  // namespace

// The command on this rank; run_train_command below adds what mpirun needs.
int train_on_this_rank(const TrainCommandArgs& args, std::ostream& out) {
  std::string config_path = args.config;
  std::string run_dir = args.run_dir;
  if (!args.resume.empty()) {
    if (!run_dir.empty() && run_dir != args.resume) {
      throw core::ConfigError("train: give either --resume DIR or --run-dir DIR, not two different folders");
    }
    if (args.overwrite) throw core::ConfigError("train: --overwrite starts a run afresh; it cannot go with --resume");
    run_dir = args.resume;
    // The run's own merged config, unless another one is named explicitly.
    if (config_path.empty()) config_path = (fs::path(run_dir) / "config.yml").string();
  }
  if (config_path.empty()) throw core::ConfigError("train: --config FILE.yml is required");
  const train::TrainConfig config = train::load_config(config_path, args.overrides);
  if (run_dir.empty()) run_dir = (fs::path("runs") / fs::path(config_path).stem()).string();
  if (args.resume.empty()) claim_run_dir(run_dir, args.overwrite);

  train::TrainOptions options;
  options.run_dir = run_dir;
  options.resume = !args.resume.empty();
  options.config_yaml = train::dump_config(config);
  options.nan_at_step = nan_step_from_environment();
  train::TrainResult r;
  try {
    r = train::run_training(config, options, out);
  } catch (const core::IoError& e) {
    throw core::IoError(fmt::format("{}; the run stopped; {}", e.what(), last_good_checkpoint(run_dir)));
  }
  if (train::communicator().rank() != 0) return r.interrupted ? 130 : 0;
  out << fmt::format("run directory: {} (metrics.jsonl, plots/, checkpoints/last.ckpt{})\n", run_dir,
                     r.last_eval.is_object() ? ", checkpoints/best.ckpt" : "");
  return r.interrupted ? 130 : 0;
}

int run_train_command(const TrainCommandArgs& args, std::ostream& out) {
  // Under mpirun a rank that fails (a bad config on one machine, a missing
  // file, an error mid-run) must not leave the others waiting in a
  // collective: it names itself and aborts the whole run (MPI_Abort), so
  // every rank exits non-zero at once. Rank 0 writes checkpoints atomically,
  // so the last one stays valid.
  train::Communicator& comm = train::communicator();
  try {
    return train_on_this_rank(args, out);
  } catch (const std::exception& e) {
    if (!comm.distributed()) throw;
    std::cerr << fmt::format("yolo train: error on rank {} of {}: {}\n", comm.rank(), comm.size(), e.what())
              << std::flush;
    comm.abort(1);
  }
  return 1;  // not reached: abort ends the process
}

void run_plot_command(const std::string& run_dir, std::ostream& out) {
  if (!fs::exists(fs::path(run_dir) / "metrics.jsonl")) {
    throw core::IoError(fmt::format("plot: {} has no metrics.jsonl (is it a run directory?)", run_dir));
  }
  train::plot_run(run_dir);
  out << fmt::format("plots written to {}\n", (fs::path(run_dir) / "plots").string());
}

}  // namespace yolo

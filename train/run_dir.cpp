#include "train/run_dir.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/fault_injection.h"

namespace train {

namespace fs = std::filesystem;

namespace {

// A writer killed mid-write leaves NAME.tmp.PID behind (core/atomic_file);
// once that process is gone, nothing will ever rename it, so it only takes
// disk space. Files of a live process are left alone.
void remove_orphaned_temporaries(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const auto at = name.rfind(".tmp.");
    if (at == std::string::npos) continue;
    const std::string pid_text = name.substr(at + 5);
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
    if (pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
}

}  // namespace

RunDir::RunDir(std::string root) : root_(std::move(root)) {
  std::error_code ec;
  for (const char* sub : {"checkpoints", "plots", "eval"}) {
    fs::create_directories(fs::path(root_) / sub, ec);
    if (ec) throw core::IoError(fmt::format("run directory {}: cannot create {}: {}", root_, sub, ec.message()));
  }
  // A probe write now, rather than a failure at the first checkpoint hours later.
  core::write_file_atomic((fs::path(root_) / "checkpoints" / ".write_probe").string(), "ok");
  fs::remove(fs::path(root_) / "checkpoints" / ".write_probe", ec);
  remove_orphaned_temporaries(fs::path(root_) / "checkpoints");
}

bool RunDir::holds_run(const std::string& dir) {
  std::error_code ec;
  const fs::path root(dir);
  if (fs::exists(root / "metrics.jsonl", ec) || fs::exists(root / "config.yml", ec)) return true;
  for (fs::directory_iterator it(root / "checkpoints", ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".ckpt") return true;
  }
  return false;
}

void RunDir::clear_run(const std::string& dir) {
  const fs::path root(dir);
  for (const char* name : {"metrics.jsonl", "config.yml", "checkpoints", "eval", "plots"}) {
    std::error_code ec;
    fs::remove_all(root / name, ec);
    if (ec) throw core::IoError(fmt::format("--overwrite: cannot remove {}: {}", (root / name).string(), ec.message()));
  }
}

std::string RunDir::checkpoint_path(std::int64_t step) const {
  return (fs::path(root_) / "checkpoints" / fmt::format("step_{:06d}.ckpt", step)).string();
}
std::string RunDir::last_checkpoint() const { return (fs::path(root_) / "checkpoints" / "last.ckpt").string(); }
std::string RunDir::best_checkpoint() const { return (fs::path(root_) / "checkpoints" / "best.ckpt").string(); }
std::string RunDir::plot_path(const std::string& name) const { return (fs::path(root_) / "plots" / name).string(); }

std::string RunDir::eval_details_path(std::int64_t step) const {
  return (fs::path(root_) / "eval" / fmt::format("step_{:06d}.json", step)).string();
}

std::string RunDir::latest_eval_details() const {
  std::string latest;
  std::error_code ec;
  for (fs::directory_iterator it(fs::path(root_) / "eval", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // Zero-padded step numbers sort as text.
    if (name.starts_with("step_") && name.ends_with(".json") && name > fs::path(latest).filename().string()) {
      latest = it->path().string();
    }
  }
  return latest;
}

void RunDir::write_eval_details(std::int64_t step, const nlohmann::json& details) const {
  core::write_file_atomic(eval_details_path(step), details.dump() + "\n");
}

void RunDir::write_config(const std::string& yaml) const {
  core::write_file_atomic((fs::path(root_) / "config.yml").string(), yaml);
}

void RunDir::append_metrics(const nlohmann::json& line) const {
  const std::string path = (fs::path(root_) / "metrics.jsonl").string();
  const std::string text = line.dump() + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw core::IoError(fmt::format("cannot append to {}: {}", path, std::strerror(errno)));
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int err = errno;
  ::fdatasync(fd);
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    throw core::IoError(fmt::format("cannot append to {}: {}", path, std::strerror(err)));
  }
  core::fault_point(line.contains("eval") ? "metrics.eval_appended" : "metrics.step_appended");
}

std::vector<nlohmann::json> RunDir::read_metrics() const {
  std::vector<nlohmann::json> out;
  std::ifstream in(fs::path(root_) / "metrics.jsonl");
  std::string text;
  while (std::getline(in, text)) {
    // A line cut short by a crash is not valid JSON; it is dropped here.
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

void RunDir::truncate_metrics_after(std::int64_t step) const {
  std::string kept;
  for (const auto& j : read_metrics()) {
    if (j.value("step", std::int64_t{0}) <= step) kept += j.dump() + "\n";
  }
  core::write_file_atomic((fs::path(root_) / "metrics.jsonl").string(), kept);
  std::error_code ec;
  for (fs::directory_iterator it(fs::path(root_) / "eval", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with("step_") || !name.ends_with(".json")) continue;
    const long long at = std::strtoll(name.c_str() + 5, nullptr, 10);
    std::error_code ignored;
    if (at > step) fs::remove(it->path(), ignored);
  }
}

namespace {

// Points `target` at the checkpoint file `src` with an atomic rename of a
// hard link (a copy where links are not possible). std::filesystem's errors
// become IoErrors that say which step of the publication failed; the
// previous target stays in place until the final rename, which either
// happens whole or not at all.
void link_checkpoint(std::int64_t step, const fs::path& src, const fs::path& target) {
  auto fail = [&](const std::string& what, const fs::path& path, const std::error_code& ec) {
    throw core::IoError(fmt::format("checkpoint of step {}: cannot {} {}: {}", step, what, path.string(), ec.message()));
  };
  const fs::path tmp = target.string() + ".tmp";
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_hard_link(src, tmp, ec);
  if (ec) {
    ec.clear();
    fs::copy_file(src, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      fail(fmt::format("copy {} to", src.string()), tmp, ec);
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    fail(fmt::format("rename {} to", tmp.string()), target, ec);
  }
}

}  // namespace

void RunDir::publish_best(std::int64_t step) const { link_checkpoint(step, checkpoint_path(step), best_checkpoint()); }

void RunDir::publish_checkpoint(std::int64_t step, bool best, int keep_last) const {
  core::fault_point("checkpoint.before_publish");
  const fs::path dir = fs::path(root_) / "checkpoints";
  const fs::path src = checkpoint_path(step);
  auto fail = [&](const std::string& what, const fs::path& path, const std::error_code& ec) {
    throw core::IoError(fmt::format("checkpoint of step {}: cannot {} {}: {}", step, what, path.string(), ec.message()));
  };
  auto link_to = [&](const fs::path& target) { link_checkpoint(step, src, target); };
  link_to(last_checkpoint());
  if (best) link_to(best_checkpoint());
  core::fault_point("checkpoint.before_prune");
  std::vector<fs::path> steps;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with("step_") && name.ends_with(".ckpt")) steps.push_back(it->path());
  }
  if (ec) fail("list", dir, ec);
  std::sort(steps.begin(), steps.end());
  for (std::size_t i = 0; i + static_cast<std::size_t>(std::max(keep_last, 1)) < steps.size(); ++i) {
    if (!fs::remove(steps[i], ec) && ec) fail("remove the old checkpoint", steps[i], ec);
  }
}

}  // namespace train

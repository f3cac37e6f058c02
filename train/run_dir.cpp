#include "train/run_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace train {

namespace fs = std::filesystem;

RunDir::RunDir(std::string root) : root_(std::move(root)) {
  std::error_code ec;
  for (const char* sub : {"checkpoints", "plots"}) {
    fs::create_directories(fs::path(root_) / sub, ec);
    if (ec) throw core::IoError(fmt::format("run directory {}: cannot create {}: {}", root_, sub, ec.message()));
  }
  // A probe write now, rather than a failure at the first checkpoint hours later.
  core::write_file_atomic((fs::path(root_) / "checkpoints" / ".write_probe").string(), "ok");
  fs::remove(fs::path(root_) / "checkpoints" / ".write_probe", ec);
}

std::string RunDir::checkpoint_path(std::int64_t step) const {
  return (fs::path(root_) / "checkpoints" / fmt::format("step_{:06d}.ckpt", step)).string();
}
std::string RunDir::last_checkpoint() const { return (fs::path(root_) / "checkpoints" / "last.ckpt").string(); }
std::string RunDir::best_checkpoint() const { return (fs::path(root_) / "checkpoints" / "best.ckpt").string(); }
std::string RunDir::plot_path(const std::string& name) const { return (fs::path(root_) / "plots" / name).string(); }

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
}

void RunDir::publish_checkpoint(std::int64_t step, bool best, int keep_last) const {
  const fs::path dir = fs::path(root_) / "checkpoints";
  const fs::path src = checkpoint_path(step);
  auto link_to = [&](const fs::path& target) {
    const fs::path tmp = target.string() + ".tmp";
    std::error_code ec;
    fs::remove(tmp, ec);
    fs::create_hard_link(src, tmp, ec);
    if (ec) fs::copy_file(src, tmp, fs::copy_options::overwrite_existing);
    fs::rename(tmp, target);
  };
  link_to(last_checkpoint());
  if (best) link_to(best_checkpoint());
  std::vector<fs::path> steps;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("step_") && name.ends_with(".ckpt")) steps.push_back(e.path());
  }
  std::sort(steps.begin(), steps.end());
  for (std::size_t i = 0; i + static_cast<std::size_t>(std::max(keep_last, 1)) < steps.size(); ++i) {
    fs::remove(steps[i]);
  }
}

}  // namespace train

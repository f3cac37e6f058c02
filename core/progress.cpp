#include "core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ostream>

namespace core {

Progress::Progress(std::ostream& out, std::string what, std::string unit, std::size_t total, bool terminal)
    : out_(out), what_(std::move(what)), unit_(std::move(unit)), total_(total), terminal_(terminal),
      start_(std::chrono::steady_clock::now()) {}

bool Progress::is_terminal(int fd) { return ::isatty(fd) == 1; }

void Progress::update(std::size_t done) {
  if (total_ == 0) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  const double eta = rate > 0 ? static_cast<double>(total_ - std::min(done, total_)) / rate : 0;
  if (done >= total_) {
    if (terminal_) out_ << "\r\033[K";
    out_ << fmt::format("{}: {} {} in {:.1f} s ({:.1f} {}/s)\n", what_, total_, unit_, seconds, rate, unit_)
         << std::flush;
    return;
  }
  if (terminal_) {
    constexpr std::size_t kWidth = 30;
    const std::size_t filled = done * kWidth / total_;
    out_ << fmt::format("\r{} [{}{}] {}/{} {}, {:.1f} {}/s, ETA {}\033[K", what_, std::string(filled, '='),
                        std::string(kWidth - filled, ' '), done, total_, unit_, rate, unit_, format_eta(eta))
         << std::flush;
    return;
  }
  const int tenths = static_cast<int>(done * 10 / total_);
  if (tenths <= tenths_printed_) return;
  tenths_printed_ = tenths;
  out_ << fmt::format("{}: {}% ({}/{} {}), {:.1f} {}/s, ETA {}\n", what_, tenths * 10, done, total_, unit_, rate,
                      unit_, format_eta(eta))
       << std::flush;
}

std::string format_eta(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  if (s >= 3600) return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

}  // namespace core

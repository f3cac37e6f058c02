#include "core/fault_injection.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

namespace core {

namespace {

// One armed point, parsed from NAME[:N[:SUFFIX]].
struct Trigger {
  std::string name;      // empty: nothing armed
  long long target = 1;  // which matching pass fires
  std::string suffix;    // a pass matches when its subject ends with this
  int signal = 0;
};

Trigger parse_trigger(const char* variable, int signal) {
  Trigger t;
  t.signal = signal;
  const char* env = std::getenv(variable);
  if (env == nullptr || *env == '\0') return t;
  const std::string text = env;
  const auto first = text.find(':');
  t.name = text.substr(0, first);
  if (first == std::string::npos) return t;
  const auto second = text.find(':', first + 1);
  t.target = std::atoll(text.substr(first + 1, second - first - 1).c_str());
  if (second != std::string::npos) t.suffix = text.substr(second + 1);
  return t;
}

bool matches(const Trigger& t, std::string_view name, std::string_view subject) {
  return !t.name.empty() && t.name == name && subject.ends_with(t.suffix);
}

}  // namespace

void fault_point(std::string_view name, std::string_view subject) {
  static const Trigger kill = parse_trigger("YOLO_FAULT_KILL", SIGKILL);
  static const Trigger stop = parse_trigger("YOLO_FAULT_STOP", SIGSTOP);
  static std::atomic<long long> kill_passes{0}, stop_passes{0};
  if (matches(kill, name, subject) && ++kill_passes == kill.target) std::raise(kill.signal);
  if (matches(stop, name, subject) && ++stop_passes == stop.target) std::raise(stop.signal);
}

}  // namespace core

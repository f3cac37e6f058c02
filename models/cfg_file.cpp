#include "models/cfg_file.h"

#include <fmt/format.h>

#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace models {

namespace {

std::string canonical_section(const std::string& name) {
  if (name == "conv") return "convolutional";
  if (name == "max") return "maxpool";
  if (name == "avg") return "avgpool";
  if (name == "soft") return "softmax";
  if (name == "network") return "net";
  return name;
}

}  // namespace

CfgFile parse_cfg_text(const std::string& text, const std::string& path) {
  CfgFile file{path, {}};
  std::istringstream in(text);
  std::string raw;
  int line_no = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    std::string line;
    for (char c : raw) {
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') line.push_back(c);
    }
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      if (line.back() != ']' || line.size() < 3) {
        throw core::ConfigError(fmt::format("{}:{}: malformed section header '{}'", path, line_no, raw));
      }
      file.sections.push_back({canonical_section(line.substr(1, line.size() - 2)), line_no, {}});
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == line.size()) {
      throw core::ConfigError(fmt::format("{}:{}: expected key=value, got '{}'", path, line_no, raw));
    }
    if (file.sections.empty()) {
      throw core::ConfigError(fmt::format("{}:{}: '{}' appears before the first [section]", path, line_no, raw));
    }
    file.sections.back().entries.push_back({line.substr(0, eq), line.substr(eq + 1), line_no});
  }
  return file;
}

CfgFile read_cfg_file(const std::string& path) { return parse_cfg_text(core::read_file(path), path); }

}  // namespace models

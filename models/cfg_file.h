// The Darknet .cfg grammar: sections of key=value lines. This layer only
// tokenises (it knows no section or key); darknet_def.h gives the entries
// meaning. Whitespace anywhere in a line is dropped and a trailing '\r' is
// removed, so CRLF files read like LF files (Darknet itself breaks on them).
#pragma once

#include <string>
#include <vector>

namespace models {

struct CfgEntry {
  std::string key;
  std::string value;
  int line = 0;
};

struct CfgSection {
  std::string name;  // without brackets, aliases resolved: "convolutional"
  int line = 0;
  std::vector<CfgEntry> entries;
};

struct CfgFile {
  std::string path;
  std::vector<CfgSection> sections;
};

// Throws core::ConfigError naming path and line for a key before the first
// section, a line without '=', an empty value or an unterminated header.
CfgFile parse_cfg_text(const std::string& text, const std::string& path);
// Reads and parses a file; throws core::IoError when it cannot be read.
CfgFile read_cfg_file(const std::string& path);

}  // namespace models

// The key table of the training config (train/config_loader.h): one
// descriptor per key with its dotted name, type, description and the codec
// that reads and writes its TrainConfig field. Loading, dumping and the key
// reference all walk this one table, so a key is added in one place
// (config_key_table.cpp) and its default in one other (train/config.h).
//
// Internal to the config code (config_*.cpp); callers use config_loader.h.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "train/config.h"

namespace train::config_internal {

struct KeyDescriptor {
  std::string name;
  std::string type;
  std::string expected;
  std::string description;
  bool required = false;
  std::function<void(TrainConfig&, const YAML::Node&)> decode;  // throws DecodeError
  std::function<void(YAML::Emitter&, const TrainConfig&)> encode;
  std::function<bool(const TrainConfig&)> empty;
};

// Every key, in the order of dump_config() and the reference.
const std::vector<KeyDescriptor>& table();

// The key called `name`, or null.
const KeyDescriptor* find_key(const std::string& name);

// Every proper prefix of a key: "data", "data.augment", "data.augment.crop"...
const std::set<std::string>& sections();

// " (did you mean 'x'?)" for a close key or section, or a key with the same
// last component elsewhere; empty when nothing fits.
std::string suggestion(const std::string& key);

// The first names under `section` ("mixup, distort, ..."), for messages.
std::string section_keys(const std::string& section);

}  // namespace train::config_internal

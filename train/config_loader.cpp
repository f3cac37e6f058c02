// Loading training configs (train/config_loader.h): reading YAML files with
// their _BASE_ chains and `-o key=value` overrides into one setting per key,
// then decoding the settings into a TrainConfig, checking required keys and
// validating (config_validate.cpp). The keys themselves are the table in
// config_key_table.cpp; dumping and the key reference are in
// config_reference.cpp.
#include "train/config_loader.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "train/config_augment.h"
#include "train/config_codecs.h"
#include "train/config_key_table.h"
#include "train/config_validate.h"

namespace train {
namespace {

namespace fs = std::filesystem;
using config_internal::DecodeError;
using config_internal::describe;
using config_internal::find_key;
using config_internal::KeyDescriptor;
using config_internal::section_keys;
using config_internal::sections;
using config_internal::suggestion;
using config_internal::table;

// Problems of one file or override, one per line, in one ConfigError.
void throw_problems(const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  std::string message = problems.front();
  for (std::size_t i = 1; i < problems.size(); ++i) message += "\n" + problems[i];
  throw core::ConfigError(message);
}

// Where a value was set: "configs/a.yml:12:5" or "-o key=value".
struct Origin {
  std::string file;  // empty for a command-line override
  int line = 0, column = 0;
  std::string override_text;

  std::string str() const {
    if (!override_text.empty()) return "-o " + override_text;
    if (line > 0) return fmt::format("{}:{}:{}", file, line, column);
    return file;
  }
};

Origin at(const std::string& file, const YAML::Mark& mark) {
  Origin o;
  o.file = file;
  if (!mark.is_null() && mark.line >= 0) o.line = mark.line + 1, o.column = mark.column + 1;
  return o;
}

struct Setting {
  YAML::Node value;
  Origin origin;
};

// Reads config files and overrides into `settings`: every key's last value
// with where it was set. Each value is type-checked as it is read, so a
// problem names the file and line that wrote it.
class ConfigReader {
 public:
  std::map<std::string, Setting> settings;

  void load_file(const std::string& display, const Origin* included_from) {
    const fs::path path(display);
    std::error_code ec;
    const std::string where = included_from ? included_from->str() + ": _BASE_: " : std::string();
    if (!fs::exists(path, ec))
      throw core::ConfigError(fmt::format("{}cannot open config file '{}': no such file", where, display));
    if (fs::is_directory(path, ec))
      throw core::ConfigError(fmt::format("{}cannot open config file '{}': it is a directory", where, display));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw core::ConfigError(fmt::format("{}cannot open config file '{}': {}", where, display, std::strerror(errno)));
    std::ostringstream text;
    text << in.rdbuf();
    const fs::path canonical = fs::weakly_canonical(path, ec);
    load_text(text.str(), display, path.parent_path(), canonical.empty() ? path : canonical,
              included_from ? included_from->str() + ": " : std::string());
  }

  void load_text(const std::string& text, const std::string& display, const fs::path& dir, const fs::path& identity,
                 const std::string& where = "") {
    if (const auto pos = std::find(chain_.begin(), chain_.end(), identity); pos != chain_.end()) {
      std::string cycle;
      for (auto i = static_cast<std::size_t>(pos - chain_.begin()); i < chain_.size(); ++i) cycle += names_[i] + " -> ";
      throw core::ConfigError(fmt::format("{}circular _BASE_: {}{}", where, cycle, display));
    }
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw core::ConfigError(fmt::format("{}: YAML syntax error: {}", at(display, e.mark).str(), e.msg));
    }
    if (root.IsNull()) return;  // an empty file sets nothing
    if (!root.IsMap())
      throw core::ConfigError(fmt::format("{}: a config must be a map of keys, got {}", at(display, root.Mark()).str(),
                                          describe(root)));

    chain_.push_back(identity);
    names_.push_back(display);
    // Bases first, in order; then this file's keys on top.
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (!it->first.IsScalar() || it->first.Scalar() != "_BASE_") continue;
      const YAML::Node bases = it->second;  // a copy: the iterator hands out a temporary
      std::vector<YAML::Node> list;
      if (bases.IsScalar()) list.push_back(bases);
      else if (bases.IsSequence())
        for (std::size_t i = 0; i < bases.size(); ++i) list.push_back(bases[i]);
      else if (!bases.IsNull())
        throw core::ConfigError(fmt::format("{}: _BASE_: expected a file name or a list of file names, got {}",
                                            at(display, bases.Mark()).str(), describe(bases)));
      for (const YAML::Node& b : list) {
        if (!b.IsScalar() || b.Scalar().empty())
          throw core::ConfigError(fmt::format("{}: _BASE_: expected a file name, got {}", at(display, b.Mark()).str(),
                                              describe(b)));
        const fs::path base(b.Scalar());
        const std::string base_display = (base.is_absolute() ? base : (dir / base)).lexically_normal().string();
        const Origin from = at(display, b.Mark());
        load_file(base_display, &from);
      }
    }
    std::vector<std::string> problems;
    std::map<std::string, Origin> seen;
    flatten(root, "", display, seen, problems, /*top=*/true);
    chain_.pop_back();
    names_.pop_back();
    throw_problems(problems);
  }

  void apply_override(const std::string& text) {
    const std::size_t eq = text.find('=');
    if (eq == std::string::npos)
      throw core::ConfigError(fmt::format("bad override '-o {}': expected KEY=VALUE, e.g. -o train.max_steps=100", text));
    const std::string key = trim(text.substr(0, eq));
    const std::string value = text.substr(eq + 1);
    if (!valid_key_name(key))
      throw core::ConfigError(fmt::format("bad override '-o {}': '{}' is not a dotted key name such as model.width",
                                          text, key));
    if (key == "_BASE_") throw core::ConfigError(fmt::format("bad override '-o {}': _BASE_ cannot be overridden", text));
    YAML::Node node;
    try {
      node = YAML::Load(value);
    } catch (const YAML::Exception& e) {
      throw core::ConfigError(fmt::format("bad override '-o {}': the value is not valid YAML: {}", text, e.msg));
    }
    Origin origin;
    origin.override_text = text;
    std::vector<std::string> problems;
    std::map<std::string, Origin> seen;
    if (find_key(key)) {
      set(key, node, origin, problems);
    } else if (sections().count(key)) {
      if (node.IsMap()) flatten(node, key, "", seen, problems, false, &origin);
      else
        problems.push_back(fmt::format("-o {}: '{}' is a section ({}): expected a map of its keys, got {}", text, key,
                                       section_keys(key), describe(node)));
    } else {
      problems.push_back(fmt::format("-o {}: unknown key '{}'{}", text, key, suggestion(key)));
    }
    throw_problems(problems);
  }

 private:
  std::vector<fs::path> chain_;
  std::vector<std::string> names_;
  TrainConfig scratch_;  // values are decoded here first to check their type

  static std::string trim(const std::string& s) {
    const std::size_t b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
  }

  static bool valid_key_name(const std::string& key) {
    if (key.empty() || key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos) return false;
    return std::all_of(key.begin(), key.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
    });
  }

  // Type-checks `value` for `key` and records it (later settings win).
  void set(const std::string& key, const YAML::Node& value, const Origin& origin, std::vector<std::string>& problems) {
    const KeyDescriptor& k = *find_key(key);
    try {
      k.decode(scratch_, value);
    } catch (const DecodeError& e) {
      Origin o = origin;
      if (o.override_text.empty() && !e.mark.is_null()) o = at(origin.file, e.mark);
      problems.push_back(fmt::format("{}: {}: {}", o.str(), key, e.message));
      return;
    }
    settings[key] = Setting{value, origin};
  }

  // Walks a map of keys (nested maps or dotted names) under `prefix`.
  void flatten(const YAML::Node& map, const std::string& prefix, const std::string& file,
               std::map<std::string, Origin>& seen, std::vector<std::string>& problems, bool top,
               const Origin* override_origin = nullptr) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node k = it->first;  // copies: the iterator hands out a temporary
      const YAML::Node v = it->second;
      const Origin key_origin = override_origin ? *override_origin : at(file, k.Mark());
      if (!k.IsScalar()) {
        problems.push_back(fmt::format("{}: keys must be names, got {}", key_origin.str(), describe(k)));
        continue;
      }
      if (top && k.Scalar() == "_BASE_") continue;
      const std::string name = prefix.empty() ? k.Scalar() : prefix + "." + k.Scalar();
      if (const KeyDescriptor* d = find_key(name)) {
        if (const auto s = seen.find(name); s != seen.end() && !override_origin) {
          problems.push_back(fmt::format("{}: duplicate key '{}' (first set at line {})", key_origin.str(), name,
                                         s->second.line));
          continue;
        }
        seen[name] = key_origin;
        Origin value_origin = key_origin;
        if (!override_origin && !v.Mark().is_null() && !v.IsNull()) value_origin = at(file, v.Mark());
        set(d->name, v, value_origin, problems);
      } else if (sections().count(name)) {
        if (v.IsMap()) flatten(v, name, file, seen, problems, false, override_origin);
        else if (!v.IsNull())  // "model:" with nothing under it sets nothing
          problems.push_back(fmt::format("{}: '{}' is a section ({}): expected a map of its keys, got {}",
                                         key_origin.str(), name, section_keys(name), describe(v)));
      } else {
        problems.push_back(fmt::format("{}: unknown key '{}'{}", key_origin.str(), name, suggestion(name)));
      }
    }
  }
};

// The settings decoded over TrainConfig's defaults, checked and validated.
TrainConfig finish(const ConfigReader& reader, const std::string& top, const LoadOptions& options) {
  TrainConfig config;
  for (const KeyDescriptor& k : table())
    if (const auto it = reader.settings.find(k.name); it != reader.settings.end()) k.decode(config, it->second.value);

  std::vector<std::string> problems;
  if (options.check_required)
    for (const KeyDescriptor& k : table()) {
      if (!k.required || !k.empty(config)) continue;
      const auto it = reader.settings.find(k.name);
      if (it == reader.settings.end())
        problems.push_back(fmt::format("{}: missing required key '{}' ({}); set it in the file, a _BASE_ file or with -o {}=...",
                                       top, k.name, k.description, k.name));
      else
        problems.push_back(fmt::format("{}: required key '{}' is empty ({})", it->second.origin.str(), k.name, k.description));
    }
  if (options.validate)
    for (const auto& [key, message] : config_internal::validate(config)) {
      const auto it = reader.settings.find(key);
      if (it != reader.settings.end()) problems.push_back(fmt::format("{}: {}: {}", it->second.origin.str(), key, message));
      else problems.push_back(fmt::format("{}: {} (default {}): {}", top, key, config_value(config, key), message));
    }
  throw_problems(problems);
  sync_derived_fields(config);
  return config;
}

}  // namespace

TrainConfig load_config(const std::string& path, const std::vector<std::string>& overrides, const LoadOptions& options) {
  ConfigReader reader;
  reader.load_file(path, nullptr);
  for (const std::string& o : overrides) reader.apply_override(o);
  return finish(reader, path, options);
}

TrainConfig load_config_text(const std::string& yaml, const std::string& name, const std::vector<std::string>& overrides,
                             const LoadOptions& options, const std::string& base_dir) {
  ConfigReader reader;
  reader.load_text(yaml, name, fs::path(base_dir), fs::path("<text>") / name);
  for (const std::string& o : overrides) reader.apply_override(o);
  return finish(reader, name, options);
}

void sync_derived_fields(TrainConfig& config) { config.data.augment = augment_config_for(config); }

}  // namespace train

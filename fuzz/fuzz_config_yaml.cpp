// Training configs (train/config_loader.h): YAML text with _BASE_ chains
// resolved against the project's configs/ folder, then `-o` overrides.
// Input layout: the YAML, optionally followed by a line "#overrides" and one
// override per line ("model.width=0.5"); the marker is a YAML comment, so a
// plain config file is a valid input as it is.
#include <sstream>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "train/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input = fuzz::as_string(data, size);
  const std::string marker = "\n#overrides\n";
  const std::size_t split = input.find(marker);
  const std::string yaml = input.substr(0, split);
  std::vector<std::string> overrides;
  if (split != std::string::npos) {
    std::istringstream lines(input.substr(split + marker.size()));
    for (std::string line; std::getline(lines, line);) overrides.push_back(line);
  }
  fuzz::expect_only_project_errors([&] {
    const train::TrainConfig config = train::load_config_text(yaml, "fuzz.yml", overrides, {}, YOLO_CONFIGS_DIR);
    train::dump_config(config);
  });
  // Partial files (configs/_base_ pieces) are checked without the required keys.
  fuzz::expect_only_project_errors([&] {
    train::load_config_text(yaml, "fuzz.yml", overrides, {.check_required = false, .validate = false},
                            YOLO_CONFIGS_DIR);
  });
  return 0;
}

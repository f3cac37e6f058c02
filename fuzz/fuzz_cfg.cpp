// Darknet .cfg text: tokenising (cfg_file.h), then the strict reader that
// turns sections into a NetworkDef (cfg_reader.h).
#include "fuzz/fuzz_support.h"
#include "models/cfg_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = fuzz::as_string(data, size);
  fuzz::expect_only_project_errors([&] {
    const models::CfgFile cfg = models::parse_cfg_text(text, "fuzz.cfg");
    models::cfg_to_network_def(cfg);
  });
  return 0;
}

// Native checkpoint bytes (checkpoint.h): header, metadata JSON, tensors, hash.
#include "fuzz/fuzz_support.h"
#include "models/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes = fuzz::as_string(data, size);
  fuzz::expect_only_project_errors([&] {
    const models::Checkpoint ckpt = models::parse_checkpoint(bytes, "fuzz.ckpt");
    for (const auto& [name, tensor] : ckpt.tensors) ckpt.get(name);
  });
  return 0;
}

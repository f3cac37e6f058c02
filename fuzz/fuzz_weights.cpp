// Darknet .weights bytes loaded into a small fixed network (two conv layers,
// the first with batch norm), as `yolo forward --weights` does.
#include "fuzz/fuzz_support.h"
#include "models/cfg_file.h"
#include "models/cfg_reader.h"
#include "models/darknet_network.h"
#include "models/darknet_weights.h"

namespace {

const char* kSmallCfg = R"([net]
width=32
height=32
channels=3

[convolutional]
batch_normalize=1
filters=4
size=3
stride=1
pad=1
activation=leaky

[convolutional]
filters=8
size=1
stride=1
activation=linear
)";

const models::DarknetNetwork& small_network() {
  static const models::DarknetNetwork net(
      models::cfg_to_network_def(models::parse_cfg_text(kSmallCfg, "small.cfg")), models::NetworkOptions{});
  return net;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto layers = small_network().darknet_conv_tensors();
  const std::string bytes = fuzz::as_string(data, size);
  fuzz::expect_only_project_errors([&] {
    models::looks_like_darknet_weights(bytes);
    models::parse_darknet_weights(bytes, "fuzz.weights", layers);
  });
  return 0;
}

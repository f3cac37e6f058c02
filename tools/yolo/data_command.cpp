#include "tools/yolo/data_command.h"

#include <fmt/format.h>

#include <algorithm>

#include "data/dataset_spec.h"
#include "data/dataset_stats.h"
#include "data/draw.h"
#include "data/image.h"
#include "data/loader.h"
#include "train/config_augment.h"
#include "train/config_loader.h"

namespace yolo {

void run_data_command(const DataArgs& args, std::ostream& out) {
  const data::Dataset ds = data::read_dataset(args.dataset, data::ReadOptions{});
  out << data::format_stats(ds, data::compute_stats(ds, args.size), args.size);
  if (args.preview.empty()) return;

  data::LoaderConfig config;
  if (!args.config.empty()) config.augment_config = train::augment_config_for(train::load_config(args.config));
  if (args.mosaic >= 0) config.augment_config.mosaic.prob = args.mosaic;
  config.batch_size = std::max(1, std::min<int>(args.count, static_cast<int>(ds.images.size())));
  config.workers = args.workers;
  config.seed = args.seed;
  config.augment = !args.no_augment;
  config.augment_config.multiscale.enabled = args.multiscale;
  config.augment_config.multiscale.size = args.size;
  data::Loader loader(ds, config);
  loader.start_epoch(0);
  const auto batch = loader.next();
  std::vector<data::Image> tiles;
  for (int i = 0; i < static_cast<int>(batch->images.size(0)); ++i) {
    tiles.push_back(data::render_batch_row(*batch, i, config.augment_config.normalize, ds.classes));
  }
  const data::Image grid = data::make_grid(tiles, 4, 4);
  data::write_bytes(args.preview, data::encode_png(grid));
  for (const auto& f : loader.stats().failed) out << "  warning: " << f.reason << "\n";
  const data::AugmentConfig& a = config.augment_config;
  const std::string how = args.no_augment ? "resized"
                          : a.mosaic.prob > 0 ? fmt::format("augmented (mosaic {:g})", a.mosaic.prob)
                                              : "augmented";
  out << fmt::format("preview: {} ({} {} samples at {}x{}, class name and mixup score on each box)\n", args.preview,
                     tiles.size(), how, batch->size, batch->size);
}

}  // namespace yolo

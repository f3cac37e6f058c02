#include "data/pipeline.h"

namespace data {

AugmentConfig AugmentConfig::none(int size) {
  AugmentConfig c;
  c.mosaic.prob = 0;
  c.mixup.enabled = false;
  c.distort.enabled = false;
  c.expand.enabled = false;
  c.crop.enabled = false;
  c.flip.enabled = false;
  c.resize.random_interp = false;
  c.multiscale.enabled = false;
  c.multiscale.size = size;
  return c;
}

Sample make_sample(const ImageRecord& record, Image image, bool keep_difficult) {
  Sample s;
  const float sx = record.width > 0 ? static_cast<float>(image.width) / record.width : 1.0f;
  const float sy = record.height > 0 ? static_cast<float>(image.height) / record.height : 1.0f;
  s.image = std::move(image);
  for (const Object& o : record.objects) {
    if (o.crowd || (o.difficult && !keep_difficult)) continue;
    Target t;
    t.box = {o.box.x1 * sx, o.box.y1 * sy, o.box.x2 * sx, o.box.y2 * sy};
    t.label = o.label;
    s.targets.push_back(t);
  }
  return s;
}

Sample load_sample(const Dataset& dataset, std::size_t index, bool keep_difficult) {
  const ImageRecord& record = dataset.images.at(index);
  return make_sample(record, load_image(record.path), keep_difficult);
}

Sample augment_sample(Sample sample, const Partners& partners, int size, const AugmentConfig& config,
                      std::mt19937& rng) {
  if (partners.mosaic[0] != nullptr) {
    sample = random_mosaic(sample, partners.mosaic, config.resize.fill, config.min_box_size, rng);
  }
  if (config.mixup.enabled && partners.mixup != nullptr) sample = random_mixup(sample, *partners.mixup, config.mixup, rng);
  random_distort(sample, config.distort, rng);
  random_expand(sample, config.expand, rng);
  random_crop(sample, config.crop, config.min_box_size, rng);
  random_flip(sample, config.flip, rng);
  random_resize(sample, size, config.resize, rng);
  clip_and_filter(sample, config.min_box_size);
  return sample;
}

}  // namespace data

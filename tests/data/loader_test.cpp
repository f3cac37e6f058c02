// Batches in yolo_loss's layout and the loader's determinism contract.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <sstream>

#include "data/batch.h"
#include "data/dataset_spec.h"
#include "data/loader.h"
#include "data/shapes_writer.h"
#include "tests/data/fixture.h"

namespace {

using data_test::TempDir;

TEST(Batch, CollateWritesYoloLossLayout) {
  data::Sample s;
  s.image = data::Image(8, 8, 51.0f);
  s.image.at(1, 0)[2] = 255.0f;
  s.targets.push_back({{2, 4, 6, 8}, 3, 0.25f});
  data::Sample empty;
  empty.image = data::Image(8, 8, 0.0f);
  const data::Batch b = data::collate({s, empty}, 8, 3, data::NormalizeParams{});
  EXPECT_EQ(b.images.shape(), (core::Shape{2, 3, 8, 8}));
  EXPECT_EQ(b.gt_box.shape(), (core::Shape{2, 3, 4}));
  EXPECT_EQ(b.gt_label.dtype(), core::DType::i32);
  EXPECT_EQ(b.gt_score.shape(), (core::Shape{2, 3}));
  const auto img = b.images.to_double_vector();
  EXPECT_NEAR(img[0], 0.2, 1e-6);                 // 51 / 255, channel R
  EXPECT_NEAR(img[2 * 64 + 1], 1.0, 1e-6);        // channel B at (x=1, y=0)
  const auto box = b.gt_box.to_double_vector();
  EXPECT_EQ(std::vector<double>(box.begin(), box.begin() + 4), (std::vector<double>{0.5, 0.75, 0.5, 0.5}));
  for (std::size_t i = 4; i < box.size(); ++i) EXPECT_EQ(box[i], 0.0);  // padding rows are zero
  EXPECT_EQ(b.gt_label.to_int_vector(), (std::vector<std::int32_t>{3, 0, 0, 0, 0, 0}));
  EXPECT_EQ(b.gt_score.to_double_vector(), (std::vector<double>{0.25, 0, 0, 0, 0, 0}));
}

TEST(Batch, MoreBoxesThanBAreTruncatedAndCounted) {
  data::Sample s;
  s.image = data::Image(4, 4);
  for (int i = 0; i < 5; ++i) s.targets.push_back({{0, 0, 1.0f + i * 0.5f, 2}, i, 1});
  const data::Batch b = data::collate({s}, 4, 3, data::NormalizeParams{});
  EXPECT_EQ(b.truncated_boxes, 2);
  EXPECT_EQ(b.gt_label.to_int_vector(), (std::vector<std::int32_t>{0, 1, 2}));
}

TEST(Batch, MeanStdNormalisation) {
  data::Sample s;
  s.image = data::Image(1, 1);
  s.image.pixels = {255, 0, 127.5f};
  data::NormalizeParams n;
  n.mean_std = true;
  const auto v = data::collate({s}, 1, 1, n).images.to_double_vector();
  EXPECT_NEAR(v[0], (1.0 - 0.485) / 0.229, 1e-5);
  EXPECT_NEAR(v[1], (0.0 - 0.456) / 0.224, 1e-5);
  EXPECT_NEAR(v[2], (0.5 - 0.406) / 0.225, 1e-5);
}

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data::ShapesOptions opt;
    opt.out = dir_.str();
    opt.format = "voc";
    opt.images = 15;
    opt.size = 64;
    opt.seed = 3;
    std::ostringstream log;
    data::write_shapes_dataset(opt, log);
    // train (12) + val (1) + test (2): 15 images.
    dataset_ = data::read_dataset("voc:" + (dir_ / "voc") + ":train+val+test", {});
  }

  data::LoaderConfig config(int workers) const {
    data::LoaderConfig c;
    c.batch_size = 2;
    c.workers = workers;
    c.seed = 11;
    c.max_boxes = 6;
    c.augment_config.multiscale.min_size = 32;
    c.augment_config.multiscale.max_size = 96;
    c.augment_config.multiscale.step = 32;
    return c;
  }

  static std::vector<data::Batch> epoch(data::Loader& loader, std::int64_t e) {
    loader.start_epoch(e);
    std::vector<data::Batch> out;
    while (auto b = loader.next()) out.push_back(std::move(*b));
    return out;
  }

  static void expect_equal(const data::Batch& a, const data::Batch& b) {
    EXPECT_EQ(a.indices, b.indices);
    EXPECT_EQ(a.size, b.size);
    EXPECT_EQ(a.images.to_double_vector(), b.images.to_double_vector());
    EXPECT_EQ(a.gt_box.to_double_vector(), b.gt_box.to_double_vector());
    EXPECT_EQ(a.gt_label.to_int_vector(), b.gt_label.to_int_vector());
    EXPECT_EQ(a.gt_score.to_double_vector(), b.gt_score.to_double_vector());
  }

  TempDir dir_;
  data::Dataset dataset_;
};

TEST_F(LoaderTest, SameBatchesForZeroOneAndTwoWorkers) {
  ASSERT_EQ(dataset_.images.size(), 15u);
  data::Loader l0(dataset_, config(0)), l1(dataset_, config(1)), l2(dataset_, config(2));
  EXPECT_EQ(l1.batches_per_epoch(), 7);  // drop_last
  for (std::int64_t e = 0; e < 2; ++e) {
    const auto b0 = epoch(l0, e), b1 = epoch(l1, e), b2 = epoch(l2, e);
    ASSERT_EQ(b1.size(), 7u);
    ASSERT_EQ(b2.size(), 7u);
    ASSERT_EQ(b0.size(), 7u);
    for (std::size_t i = 0; i < b1.size(); ++i) {
      expect_equal(b1[i], b2[i]);
      expect_equal(b0[i], b2[i]);
    }
  }
  EXPECT_EQ(l2.stats().images, 28);
  EXPECT_TRUE(l2.stats().failed.empty());
}

int count_boxes(const data::Batch& b) {
  const std::vector<double> box = b.gt_box.to_double_vector();
  int n = 0;
  for (std::size_t k = 2; k < box.size(); k += 4) n += box[k] > 1e-6;  // w of (cx, cy, w, h)
  return n;
}

// Mosaic draws its partners and its centre from the sample's own stream:
// the batches do not depend on the workers, and a resume mid-epoch gets the
// same batches; every box stays a valid target.
TEST_F(LoaderTest, MosaicIsDeterministicAndKeepsValidTargets) {
  data::LoaderConfig c0 = config(0), c2 = config(2);
  c0.augment_config.mosaic.prob = c2.augment_config.mosaic.prob = 1.0f;
  data::Loader l0(dataset_, c0), l2(dataset_, c2), plain(dataset_, config(0));
  const auto a = epoch(l0, 1), b = epoch(l2, 1), without = epoch(plain, 1);
  ASSERT_EQ(a.size(), b.size());
  int boxes_with = 0, boxes_without = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    expect_equal(a[i], b[i]);
    EXPECT_NE(a[i].images.to_double_vector(), without[i].images.to_double_vector());
    boxes_with += count_boxes(a[i]);
    boxes_without += count_boxes(without[i]);
  }
  EXPECT_GT(boxes_with, boxes_without) << "four images in each sample bring more boxes";
  l2.start_epoch(1, 3);
  expect_equal(*l2.next(), a[3]);
}

TEST_F(LoaderTest, EpochsDifferAndEveryGtIsValid) {
  data::Loader loader(dataset_, config(2));
  const auto e0 = epoch(loader, 0), e1 = epoch(loader, 1);
  EXPECT_NE(e0[0].indices, e1[0].indices);
  std::set<int> sizes;
  double mixed = 0;
  for (const auto& b : e0) {
    sizes.insert(b.size);
    EXPECT_EQ(b.images.shape(), (core::Shape{2, 3, b.size, b.size}));
    const auto box = b.gt_box.to_double_vector();
    const auto score = b.gt_score.to_double_vector();
    for (std::size_t r = 0; r < score.size(); ++r) {
      const double* g = &box[r * 4];
      if (g[2] == 0) {
        EXPECT_EQ(score[r], 0.0);
        continue;
      }
      EXPECT_GE(g[0], 0.0);
      EXPECT_LT(g[0], 1.0);
      EXPECT_GE(g[1], 0.0);
      EXPECT_LT(g[1], 1.0);
      EXPECT_GT(g[2], 0.0);
      EXPECT_GT(g[3], 0.0);
      EXPECT_GT(score[r], 0.0);
      EXPECT_LE(score[r], 1.0);
      if (score[r] < 1.0) mixed += 1;
    }
  }
  EXPECT_GT(sizes.size(), 1u);  // multi-scale changes the size between batches
  EXPECT_GT(mixed, 0);          // mixup fed gt_score
}

TEST_F(LoaderTest, ProcessesTakeTheirSliceOfEachGlobalBatch) {
  auto cfg = config(1);
  cfg.batch_size = 4;
  data::Loader whole(dataset_, cfg);
  cfg.batch_size = 2;
  cfg.world = 2;
  cfg.rank = 0;
  data::Loader r0(dataset_, cfg);
  cfg.rank = 1;
  data::Loader r1(dataset_, cfg);
  ASSERT_EQ(whole.batches_per_epoch(), r0.batches_per_epoch());
  const auto w = epoch(whole, 4), a = epoch(r0, 4), b = epoch(r1, 4);
  for (std::size_t i = 0; i < w.size(); ++i) {
    std::vector<std::size_t> joined = a[i].indices;
    joined.insert(joined.end(), b[i].indices.begin(), b[i].indices.end());
    EXPECT_EQ(joined, w[i].indices);
    EXPECT_EQ(a[i].size, w[i].size);
    const auto wi = w[i].images.to_double_vector();
    const auto bi = b[i].images.to_double_vector();
    // Rank 1's first image is the whole batch's third: same augmentation.
    EXPECT_TRUE(std::equal(bi.begin(), bi.end(), wi.begin() + static_cast<std::ptrdiff_t>(wi.size() / 2)));
  }
}

TEST_F(LoaderTest, RankShardsAreDisjointAndCoverTheEpoch) {
  // 15 images, 3 ranks x 2: two global batches of 6 per epoch; the 3 left
  // over are dropped (drop_last), as one process with batch 6 drops them.
  auto cfg = config(0);
  cfg.batch_size = 6;
  const data::Loader whole(dataset_, cfg);
  cfg.batch_size = 2;
  cfg.world = 3;
  std::vector<std::unique_ptr<data::Loader>> ranks;
  for (int r = 0; r < 3; ++r) {
    cfg.rank = r;
    ranks.push_back(std::make_unique<data::Loader>(dataset_, cfg));
    ASSERT_EQ(ranks.back()->batches_per_epoch(), whole.batches_per_epoch());
  }
  ASSERT_EQ(whole.batches_per_epoch(), 2);
  for (std::int64_t e = 0; e < 3; ++e) {
    std::vector<std::size_t> epoch_whole, epoch_ranks;
    std::set<std::size_t> seen;
    for (std::int64_t b = 0; b < whole.batches_per_epoch(); ++b) {
      const auto w = whole.batch_indices(e, b);
      epoch_whole.insert(epoch_whole.end(), w.begin(), w.end());
      for (const auto& rank : ranks) {
        const auto mine = rank->batch_indices(e, b);
        EXPECT_EQ(mine.size(), 2u);
        for (std::size_t i : mine) EXPECT_TRUE(seen.insert(i).second) << "index " << i << " on two ranks";
        epoch_ranks.insert(epoch_ranks.end(), mine.begin(), mine.end());
      }
    }
    EXPECT_EQ(epoch_ranks, epoch_whole);  // together, in rank order, the single process's epoch
    EXPECT_EQ(seen.size(), 12u);
  }
}

TEST_F(LoaderTest, ResumesMidEpochWithTheSameBatches) {
  data::Loader loader(dataset_, config(2));
  const auto full = epoch(loader, 2);
  loader.start_epoch(2, 5);
  auto b5 = loader.next();
  ASSERT_TRUE(b5.has_value());
  expect_equal(*b5, full[5]);
  // Restarting while workers are busy shuts them down cleanly.
  loader.start_epoch(3);
  loader.start_epoch(2, 6);
  auto b6 = loader.next();
  expect_equal(*b6, full[6]);
}

TEST_F(LoaderTest, UndecodableImagesAreReplacedAndReported) {
  data_test::write_text(dataset_.images[4].path, "broken");
  auto cfg = config(2);
  cfg.shuffle = false;
  cfg.augment_config.mixup.enabled = false;
  data::Loader loader(dataset_, cfg);
  const auto batches = epoch(loader, 0);
  EXPECT_EQ(batches.size(), 7u);
  const auto failed = loader.stats().failed;
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].reason.find("000004.jpg"), std::string::npos);
}

}  // namespace

#include "models/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"

namespace models {
namespace {

using core::DType;
using core::Tensor;

Checkpoint sample() {
  Checkpoint c;
  c.metadata = R"({"classes":["a","b"]})";
  c.tensors.emplace_back("backbone.conv0.weight", Tensor::from_vector({2, 1, 1, 1}, {1.5, -2}, DType::f32));
  c.tensors.emplace_back("step", Tensor::from_ints({1}, {42}));
  c.tensors.emplace_back("empty", Tensor::zeros({0}, DType::f64));
  return c;
}

void expect_io_error(const std::string& bytes, const char* fragment) {
  try {
    parse_checkpoint(bytes, "run/last.ckpt");
    FAIL() << "no exception for " << fragment;
  } catch (const core::IoError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("run/last.ckpt"), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, RoundTripsNamesShapesDtypesAndMetadata) {
  const Checkpoint back = parse_checkpoint(serialize_checkpoint(sample()), "x");
  EXPECT_EQ(back.metadata, sample().metadata);
  ASSERT_EQ(back.tensors.size(), 3u);
  EXPECT_EQ(back.get("backbone.conv0.weight").shape(), (core::Shape{2, 1, 1, 1}));
  EXPECT_EQ(back.get("backbone.conv0.weight").to_double_vector(), (std::vector<double>{1.5, -2}));
  EXPECT_EQ(back.get("step").to_int_vector(), (std::vector<std::int32_t>{42}));
  EXPECT_EQ(back.get("empty").dtype(), DType::f64);
  EXPECT_THROW(back.get("missing"), core::IoError);
}

TEST(Checkpoint, CorruptFilesAreRejectedWithTheReason) {
  const std::string good = serialize_checkpoint(sample());
  expect_io_error("NOTACKPT" + good.substr(8), "wrong magic");
  std::string version = good;
  version[8] = 9;
  expect_io_error(version, "version 9");
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x5a;
  expect_io_error(flipped, "checksum");
  expect_io_error(good.substr(0, good.size() - 20), "checksum");
  expect_io_error(good.substr(0, 10), "truncated");
}

TEST(Checkpoint, SaveIsAtomicAndLoadable) {
  const auto dir = std::filesystem::temp_directory_path() / "checkpoint_test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "a.ckpt").string();
  save_checkpoint(path, sample());
  EXPECT_TRUE(is_checkpoint(serialize_checkpoint(sample())));
  EXPECT_EQ(load_checkpoint(path).tensors.size(), 3u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace models

#include "models/checkpoint.h"

#include <gtest/gtest.h>

#include <cstring>
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

// The checksum the format ends with (FNV-1a over everything before it), so a
// test can forge a file that passes it.
std::string with_checksum(std::string bytes) {
  bytes.resize(bytes.size() - 8);
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  bytes.append(reinterpret_cast<const char*>(&h), 8);
  return bytes;
}

// Found by fuzz_checkpoint: dimensions whose product overflows int64 (UBSan:
// signed integer overflow in shape_numel).
TEST(Checkpoint, ForgedHugeShapesAreRejectedWithoutOverflow) {
  Checkpoint c;
  c.metadata = "{}";
  c.tensors.emplace_back("w", Tensor::zeros({2, 3}, DType::f32));
  const std::string good = serialize_checkpoint(c);
  // magic 8, version 4, metadata length 8 + "{}", count 8, name length 4 + "w", dtype 1, rank 4: dims at 40.
  const std::size_t dims_at = 8 + 4 + 8 + 2 + 8 + 4 + 1 + 1 + 4;
  ASSERT_EQ(parse_checkpoint(with_checksum(good), "x").tensors.size(), 1u);
  std::string forged = good;
  const std::int64_t huge = 7638104968020361218;
  std::memcpy(forged.data() + dims_at, &huge, 8);
  std::memcpy(forged.data() + dims_at + 8, &huge, 8);
  expect_io_error(with_checksum(forged), "tensor 'w' [7638104968020361218,7638104968020361218] needs more bytes than the file has left");
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

#include "core/npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"

namespace core {
namespace {

// Builds a version-1 .npy image with the given header dict and payload.
std::string npy_image(const std::string& dict, const std::string& payload) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  return out + header + payload;
}

template <class T>
std::string bytes_of(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

void expect_io_error(const std::string& image, const std::string& fragment) {
  try {
    parse_npy(image, "sample.npy");
    FAIL() << "expected an IoError containing '" << fragment << "'";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sample.npy"), std::string::npos) << e.what();
  }
}

TEST(Npy, RoundTripsEveryDtypeAndRank) {
  for (DType dt : {DType::f32, DType::f64, DType::i32}) {
    for (const Shape& s : {Shape{}, Shape{0}, Shape{5}, Shape{2, 3, 4}}) {
      std::vector<double> v(static_cast<std::size_t>(shape_numel(s)));
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i) - 3;
      const Tensor t = Tensor::from_vector(s, v, dt);
      const Tensor back = parse_npy(serialize_npy(t), "x");
      EXPECT_EQ(back.dtype(), dt);
      EXPECT_EQ(back.shape(), s);
      EXPECT_EQ(back.to_double_vector(), v);
    }
  }
}

TEST(Npy, ReadsWhatNumpyWrites) {
  // Header text as numpy 1.24 writes it for np.arange(6, dtype='<f8').reshape(2,3).
  const std::vector<double> v{0, 1, 2, 3, 4, 5};
  const Tensor t = parse_npy(npy_image("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", bytes_of(v)), "x");
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.to_double_vector(), v);
}

TEST(Npy, Int64IsNarrowedWithARangeCheck) {
  const std::vector<std::int64_t> ok{1, -2, 3};
  const Tensor t = parse_npy(npy_image("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", bytes_of(ok)), "x");
  EXPECT_EQ(t.dtype(), DType::i32);
  EXPECT_EQ(t.to_int_vector(), (std::vector<std::int32_t>{1, -2, 3}));
  const std::vector<std::int64_t> big{1, std::int64_t{1} << 40};
  expect_io_error(npy_image("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", bytes_of(big)),
                  "does not fit in int32");
}

TEST(Npy, RejectsBadFiles) {
  const std::vector<float> v{1, 2, 3, 4};
  expect_io_error("hello world, not numpy", "not a .npy file");
  expect_io_error(npy_image("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", bytes_of(v)), "Fortran");
  expect_io_error(npy_image("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", bytes_of(v)),
                  "big-endian");
  expect_io_error(npy_image("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", bytes_of(v)),
                  "unsupported dtype");
  expect_io_error(npy_image("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", bytes_of(v)),
                  "truncated data");
  const std::string good = npy_image("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", bytes_of(v));
  expect_io_error(good.substr(0, 30), "truncated header");
  expect_io_error(npy_image("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", bytes_of(v)),
                  "malformed dimension");
}

// fuzz_checkpoint found a shape product overflowing in checkpoints; .npy
// headers had the same product and allocated the tensor before comparing it
// with the file's length. Shapes are now checked against the bytes first.
TEST(Npy, HugeShapesAreRejectedBeforeAllocating) {
  const std::vector<float> v{1, 2, 3, 4};
  expect_io_error(npy_image("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", bytes_of(v)),
                  "truncated data: shape [1000000000000] of '<f4' needs 4000000000000 bytes, file has 16");
  expect_io_error(npy_image("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 7), }", bytes_of(v)),
                  "shape [4611686018427387904,7] of '<f8' is too large");
  expect_io_error(npy_image("{'descr': '<i8', 'fortran_order': False, 'shape': (0, 4611686018427387904, 4), }", ""),
                  "is too large");
  const Tensor empty = parse_npy(npy_image("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", ""), "x");
  EXPECT_EQ(empty.shape(), (Shape{0, 5}));
}

TEST(Npy, MissingFileNamesThePath) {
  try {
    read_npy("/nonexistent/dir/input.npy");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/input.npy"), std::string::npos);
  }
}

TEST(Npy, WriteIsAtomicAndReadable) {
  const auto dir = std::filesystem::temp_directory_path() / "npy_test_write";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "t.npy").string();
  write_npy(path, Tensor::full({2, 2}, 1.5, DType::f32));
  write_npy(path, Tensor::full({3}, 2.5, DType::f64));
  const Tensor back = read_npy(path);
  EXPECT_EQ(back.to_double_vector(), (std::vector<double>{2.5, 2.5, 2.5}));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u) << "no temporary file may be left behind";
  EXPECT_THROW(write_npy((dir / "missing" / "t.npy").string(), back), IoError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace core

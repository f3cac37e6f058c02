// Runs an exported ONNX model with OpenCV's dnn module (cv::dnn::readNetFromONNX,
// Debian 12's OpenCV 4.6) on a .npy input and writes every unconnected
// output as OUT_DIR/<output name>.npy. A test program, built only where
// OpenCV is found; tests/deploy/onnx_runtimes_check.py drives it.
//
//   opencv_runner MODEL.onnx INPUT.npy OUT_DIR
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "core/npy.h"
#include "core/tensor.h"

namespace {

cv::Mat to_mat(const core::Tensor& t) {
  std::vector<int> sizes(t.shape().begin(), t.shape().end());
  cv::Mat m(static_cast<int>(sizes.size()), sizes.data(), CV_32F);
  std::memcpy(m.ptr<float>(), t.data<float>(), static_cast<std::size_t>(t.numel()) * sizeof(float));
  return m;
}

core::Tensor to_tensor(const cv::Mat& m) {
  if (m.type() != CV_32F || !m.isContinuous()) throw std::runtime_error("OpenCV output is not continuous float32");
  core::Shape shape;
  for (int d = 0; d < m.dims; ++d) shape.push_back(m.size[d]);
  core::Tensor t = core::Tensor::empty(shape, core::DType::f32);
  std::memcpy(t.mutable_data<float>(), m.ptr<float>(), static_cast<std::size_t>(t.numel()) * sizeof(float));
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: opencv_runner MODEL.onnx INPUT.npy OUT_DIR\n";
    return 2;
  }
  try {
    cv::dnn::Net net = cv::dnn::readNetFromONNX(argv[1]);
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    net.setInput(to_mat(core::read_npy(argv[2])));
    const std::vector<std::string> names = net.getUnconnectedOutLayersNames();
    std::vector<cv::Mat> outputs;
    net.forward(outputs, names);
    std::filesystem::create_directories(argv[3]);
    for (std::size_t i = 0; i < names.size(); ++i) {
      const core::Tensor t = to_tensor(outputs[i]);
      core::write_npy((std::filesystem::path(argv[3]) / (names[i] + ".npy")).string(), t);
      std::cout << names[i] << ": " << t.describe() << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "opencv_runner: " << argv[1] << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}

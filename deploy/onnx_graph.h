// A thin helper over ONNX's generated protobuf classes (onnx/onnx_pb.h) for
// building an inference graph node by node: float and int64 initializers,
// nodes with their attributes, and names that never collide. It writes no
// bytes itself; serialisation is protobuf's.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

namespace deploy {

class OnnxGraph {
 public:
  explicit OnnxGraph(onnx::GraphProto& graph) : graph_(graph) {}

  // A float32 initializer of `shape` holding `values` (row-major); returns
  // its name, `hint` made unique.
  std::string constant(const std::string& hint, const std::vector<std::int64_t>& shape,
                       const std::vector<float>& values);
  // An int64 initializer (shapes, axes, slice bounds).
  std::string constant_i64(const std::string& hint, const std::vector<std::int64_t>& values);

  // Appends a node of `op_type` reading `inputs` and writing one output
  // named `output` (made unique unless `exact`); the node carries the same
  // name. Returns the node, for attributes.
  onnx::NodeProto& node(const std::string& op_type, const std::vector<std::string>& inputs, const std::string& output,
                        bool exact = false);
  // The name of a node's first output.
  static const std::string& out(const onnx::NodeProto& n) { return n.output(0); }

  static void set_int(onnx::NodeProto& n, const std::string& name, std::int64_t value);
  static void set_ints(onnx::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& values);
  static void set_float(onnx::NodeProto& n, const std::string& name, float value);
  static void set_string(onnx::NodeProto& n, const std::string& name, const std::string& value);

  // `hint`, or `hint_K` for the first K that is not taken yet.
  std::string unique(const std::string& hint);

 private:
  onnx::GraphProto& graph_;
  std::unordered_set<std::string> taken_;
};

// Declares a float32 graph input or output of `dims`; a dimension < 0 is
// symbolic and named `symbol` (the batch of a --batch dynamic model).
void add_float_value(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& values, const std::string& name,
                     const std::vector<std::int64_t>& dims, const std::string& symbol);

}  // namespace deploy

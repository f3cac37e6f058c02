#include "deploy/onnx_graph.h"

#include <fmt/format.h>

namespace deploy {

std::string OnnxGraph::unique(const std::string& hint) {
  std::string name = hint;
  for (int k = 1; taken_.count(name) != 0; ++k) name = fmt::format("{}_{}", hint, k);
  taken_.insert(name);
  return name;
}

std::string OnnxGraph::constant(const std::string& hint, const std::vector<std::int64_t>& shape,
                                const std::vector<float>& values) {
  onnx::TensorProto* t = graph_.add_initializer();
  t->set_name(unique(hint));
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (std::int64_t d : shape) t->add_dims(d);
  // raw_data is little-endian by the ONNX spec, as is every host we build on.
  t->set_raw_data(values.data(), values.size() * sizeof(float));
  return t->name();
}

std::string OnnxGraph::constant_i64(const std::string& hint, const std::vector<std::int64_t>& values) {
  onnx::TensorProto* t = graph_.add_initializer();
  t->set_name(unique(hint));
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(static_cast<std::int64_t>(values.size()));
  for (std::int64_t v : values) t->add_int64_data(v);
  return t->name();
}

onnx::NodeProto& OnnxGraph::node(const std::string& op_type, const std::vector<std::string>& inputs,
                                 const std::string& output, bool exact) {
  onnx::NodeProto* n = graph_.add_node();
  n->set_op_type(op_type);
  for (const std::string& in : inputs) n->add_input(in);
  if (exact) taken_.insert(output);
  const std::string name = exact ? output : unique(output);
  n->add_output(name);
  n->set_name(name);
  return *n;
}

void OnnxGraph::set_int(onnx::NodeProto& n, const std::string& name, std::int64_t value) {
  onnx::AttributeProto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void OnnxGraph::set_ints(onnx::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& values) {
  onnx::AttributeProto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (std::int64_t v : values) a->add_ints(v);
}

void OnnxGraph::set_float(onnx::NodeProto& n, const std::string& name, float value) {
  onnx::AttributeProto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

void OnnxGraph::set_string(onnx::NodeProto& n, const std::string& name, const std::string& value) {
  onnx::AttributeProto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(value);
}

void add_float_value(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& values, const std::string& name,
                     const std::vector<std::int64_t>& dims, const std::string& symbol) {
  onnx::ValueInfoProto* v = values.Add();
  v->set_name(name);
  onnx::TypeProto_Tensor* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  for (std::int64_t d : dims) {
    onnx::TensorShapeProto_Dimension* dim = t->mutable_shape()->add_dim();
    if (d < 0) {
      dim->set_dim_param(symbol);
    } else {
      dim->set_dim_value(d);
    }
  }
}

}  // namespace deploy

#include "ops/registry.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace ops {
namespace {

template <class Fn>
void expect_value_error(Fn&& fn, const char* fragment) {
  try {
    fn();
    FAIL() << "no exception";
  } catch (const core::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

OpSpec test_spec() {
  return {"probe", "test op", {{"x"}}, false, {"y"},
          {{"n", AttrType::integer, std::nullopt, ""},
           {"rate", AttrType::real, AttrValue(0.5), ""},
           {"flag", AttrType::boolean, AttrValue(false), ""},
           {"sizes", AttrType::int_list, AttrValue(std::vector<std::int64_t>{1}), ""},
           {"scales", AttrType::real_list, AttrValue(std::vector<double>{}), ""}},
          nullptr};
}

TEST(Registry, ParsesEveryAttributeTypeAndFillsDefaults) {
  const Attrs a = parse_attrs(test_spec(), {{"n", "-3"}, {"flag", "1"}, {"sizes", "10,13,16,30"}, {"scales", "1e-05,0.7"}});
  EXPECT_EQ(a.get_int("n"), -3);
  EXPECT_EQ(a.get_float("rate"), 0.5);
  EXPECT_TRUE(a.get_bool("flag"));
  EXPECT_EQ(a.get_ints("sizes"), (std::vector<std::int64_t>{10, 13, 16, 30}));
  EXPECT_EQ(a.get_floats("scales"), (std::vector<double>{1e-05, 0.7}));
  EXPECT_FALSE(parse_attrs(test_spec(), {{"n", "1"}, {"flag", "false"}}).get_bool("flag"));
  EXPECT_TRUE(parse_attrs(test_spec(), {{"n", "1"}, {"sizes", ""}}).get_ints("sizes").empty());
}

TEST(Registry, RejectsBadAttributes) {
  const OpSpec s = test_spec();
  expect_value_error([&] { parse_attrs(s, {}); }, "required attribute 'n'");
  expect_value_error([&] { parse_attrs(s, {{"n", "1"}, {"bogus", "2"}}); }, "unknown attribute 'bogus'");
  expect_value_error([&] { parse_attrs(s, {{"n", "1.5"}}); }, "n=1.5");
  expect_value_error([&] { parse_attrs(s, {{"n", "1"}, {"rate", "0,7"}}); }, "rate=0,7");
  expect_value_error([&] { parse_attrs(s, {{"n", "1"}, {"flag", "yes"}}); }, "flag=yes");
  expect_value_error([&] { parse_attrs(s, {{"n", "1"}, {"sizes", "[1,2]"}}); }, "sizes=[1,2]");
  expect_value_error([&] { parse_attrs(s, {{"n", "1"}, {"sizes", "1, 2"}}); }, "sizes=1, 2");
  expect_value_error([&] { parse_attrs(s, {{"n", "1"}, {"n", "2"}}); }, "twice");
}

TEST(Registry, KnowsEveryFoundationOp) {
  const auto& r = op_registry();
  for (const char* name : {"add", "sub", "mul", "div", "neg", "exp", "log", "sqrt", "pow", "sigmoid", "leaky_relu",
                           "relu", "sum", "mean", "reshape", "permute", "transpose", "slice", "concat", "matmul"}) {
    EXPECT_TRUE(r.contains(name)) << name;
  }
  expect_value_error([&] { r.find("nope"); }, "unknown op 'nope'");
  const std::string listing = format_op_list(r);
  EXPECT_NE(listing.find("attr slope : float = 0.1"), std::string::npos) << listing;
}

}  // namespace
}  // namespace ops

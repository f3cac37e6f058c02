#include "train/config_codecs.h"

#include <cmath>
#include <map>
#include <set>

namespace train::config_internal {

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "an empty value";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Scalar: return fmt::format("'{}'", n.Scalar());
    default: return "nothing";
  }
}

[[noreturn]] void fail(const YAML::Node& n, const std::string& expected) {
  throw DecodeError{fmt::format("expected {}, got {}", expected, describe(n)), n.Mark()};
}

double decode_number(const YAML::Node& n) {
  constexpr const char* expected = "a number";
  if (!plain_scalar(n)) fail(n, expected);
  const std::string& s = n.Scalar();
  static const std::map<std::string, double> special = {
      {".inf", HUGE_VAL},  {".Inf", HUGE_VAL},  {".INF", HUGE_VAL},  {"+.inf", HUGE_VAL}, {"-.inf", -HUGE_VAL},
      {"-.Inf", -HUGE_VAL}, {"-.INF", -HUGE_VAL}, {".nan", NAN},      {".NaN", NAN},       {".NAN", NAN}};
  if (const auto it = special.find(s); it != special.end()) return it->second;
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  double v = 0.0;
  const auto [p, ec] = std::from_chars(b, e, v);
  if (ec == std::errc::result_out_of_range)
    throw DecodeError{fmt::format("{} is out of range for a float", s), n.Mark()};
  if (ec != std::errc() || p != e || b == e) fail(n, expected);
  return v;
}

std::string format_number(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  std::string s = fmt::format("{}", v);
  if (s.find_first_not_of("-0123456789") == std::string::npos) s += ".0";
  return s;
}

std::string format_number(float v) {
  if (std::isnan(v) || std::isinf(v)) return format_number(static_cast<double>(v));
  std::string s = fmt::format("{}", v);
  if (s.find_first_not_of("-0123456789") == std::string::npos) s += ".0";
  return s;
}

void emit_string(YAML::Emitter& e, const std::string& s) {
  static const std::set<std::string> null_words = {"~", "null", "Null", "NULL"};
  if (s.empty() || null_words.count(s)) e << YAML::DoubleQuoted << s;
  else e << s;
}

}  // namespace train::config_internal

// Codecs of the config keys (train/config_loader.h): how one field of
// TrainConfig is decoded from a YAML node, strictly, and encoded back as YAML
// flow text, plus the type name and the "expected ..." phrase the reference
// and the error messages use. Codec<T> covers bool, the integers, float,
// double, string, lists and fixed-length lists; AnchorsCodec the one field
// with a layout of its own (model.anchors).
//
// Internal to the config code (config_*.cpp); callers use config_loader.h.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <set>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace train::config_internal {

// A node that does not decode; `mark` is the node's position in its file.
struct DecodeError {
  std::string message;
  YAML::Mark mark;
};

// "an empty value", "a list", "a map" or the quoted scalar, for messages.
std::string describe(const YAML::Node& n);

// Throws DecodeError "expected <expected>, got <describe(n)>" at n's mark.
[[noreturn]] void fail(const YAML::Node& n, const std::string& expected);

// Plain (unquoted) scalars carry the non-specific tag "?"; quoted ones "!".
inline bool plain_scalar(const YAML::Node& n) { return n.IsScalar() && n.Tag() != "!"; }

template <class Int>
Int decode_integer(const YAML::Node& n, const char* expected) {
  if (!plain_scalar(n)) fail(n, expected);
  const std::string& s = n.Scalar();
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  Int v{};
  const auto [p, ec] = std::from_chars(b, e, v);
  if (ec == std::errc::result_out_of_range)
    throw DecodeError{fmt::format("{} is out of range (expected {})", s, expected), n.Mark()};
  if (ec != std::errc() || p != e || b == e) fail(n, expected);
  return v;
}

// A YAML number (.inf, .nan and their spellings included).
double decode_number(const YAML::Node& n);

// Shortest text that reads back to the same value; integral values keep a
// ".0" so the type stays visible.
std::string format_number(double v);
std::string format_number(float v);

// A string, quoted where YAML would read it as null (empty, "~", "null"...).
void emit_string(YAML::Emitter& e, const std::string& s);

// Codec<T>: type (for the reference), expected (for messages), decode, encode.
template <class T>
struct Codec;

template <>
struct Codec<bool> {
  static std::string type() { return "bool"; }
  static std::string expected() { return "true or false"; }
  static void decode(const YAML::Node& n, bool& out) {
    static const std::set<std::string> yes = {"true", "True", "TRUE"}, no = {"false", "False", "FALSE"};
    if (!plain_scalar(n)) fail(n, expected());
    if (yes.count(n.Scalar())) out = true;
    else if (no.count(n.Scalar())) out = false;
    else fail(n, expected());
  }
  static void encode(YAML::Emitter& e, bool v) { e << (v ? "true" : "false"); }
};

template <class Int>
  requires(std::is_integral_v<Int> && !std::is_same_v<Int, bool>)
struct Codec<Int> {
  static std::string type() { return std::is_signed_v<Int> ? "int" : "uint"; }
  static std::string expected() { return std::is_signed_v<Int> ? "an integer" : "an integer >= 0"; }
  static void decode(const YAML::Node& n, Int& out) { out = decode_integer<Int>(n, expected().c_str()); }
  static void encode(YAML::Emitter& e, Int v) { e << fmt::format("{}", v); }
};

template <>
struct Codec<double> {
  static std::string type() { return "float"; }
  static std::string expected() { return "a number"; }
  static void decode(const YAML::Node& n, double& out) { out = decode_number(n); }
  static void encode(YAML::Emitter& e, double v) { e << format_number(v); }
};

template <>
struct Codec<float> {
  static std::string type() { return "float"; }
  static std::string expected() { return "a number"; }
  static void decode(const YAML::Node& n, float& out) {
    const double v = decode_number(n);
    if (std::isfinite(v) && std::fabs(v) > std::numeric_limits<float>::max())
      throw DecodeError{fmt::format("{} is out of range for a float", n.Scalar()), n.Mark()};
    out = static_cast<float>(v);
  }
  static void encode(YAML::Emitter& e, float v) { e << format_number(v); }
};

template <>
struct Codec<std::string> {
  static std::string type() { return "string"; }
  static std::string expected() { return "a string"; }
  static void decode(const YAML::Node& n, std::string& out) {
    if (n.IsNull()) out.clear();
    else if (n.IsScalar()) out = n.Scalar();
    else fail(n, expected());
  }
  static void encode(YAML::Emitter& e, const std::string& v) { emit_string(e, v); }
};

template <class T>
struct Codec<std::vector<T>> {
  static std::string type() { return "list[" + Codec<T>::type() + "]"; }
  static std::string expected() { return "a list of " + plural(Codec<T>::expected()); }
  static void decode(const YAML::Node& n, std::vector<T>& out) {
    if (n.IsNull()) {
      out.clear();
      return;
    }
    if (!n.IsSequence()) fail(n, expected());
    std::vector<T> v(n.size());
    for (std::size_t i = 0; i < n.size(); ++i) Codec<T>::decode(n[i], v[i]);
    out = std::move(v);
  }
  static void encode(YAML::Emitter& e, const std::vector<T>& v) {
    e << YAML::Flow << YAML::BeginSeq;
    for (const T& x : v) Codec<T>::encode(e, x);
    e << YAML::EndSeq;
  }
  static std::string plural(const std::string& s) {
    if (s.rfind("a list of ", 0) == 0) return "lists of " + s.substr(10);
    if (s.rfind("an ", 0) == 0) return s.substr(3) + "s";
    if (s.rfind("a ", 0) == 0) return s.substr(2) + "s";
    return s;
  }
};

// Fixed-length lists: std::array<T, N> and T[N].
template <class T, std::size_t N>
struct FixedCodec {
  static std::string type() { return Codec<T>::type() + "[" + std::to_string(N) + "]"; }
  static std::string expected() { return fmt::format("a list of {} numbers", N); }
  static void decode(const YAML::Node& n, T* out) {
    if (!n.IsSequence() || n.size() != N) fail(n, expected());
    T v[N];
    for (std::size_t i = 0; i < N; ++i) Codec<T>::decode(n[i], v[i]);
    std::copy(v, v + N, out);
  }
  static void encode(YAML::Emitter& e, const T* v) {
    e << YAML::Flow << YAML::BeginSeq;
    for (std::size_t i = 0; i < N; ++i) Codec<T>::encode(e, v[i]);
    e << YAML::EndSeq;
  }
};

template <class T, std::size_t N>
struct Codec<std::array<T, N>> {
  static std::string type() { return FixedCodec<T, N>::type(); }
  static std::string expected() { return FixedCodec<T, N>::expected(); }
  static void decode(const YAML::Node& n, std::array<T, N>& out) { FixedCodec<T, N>::decode(n, out.data()); }
  static void encode(YAML::Emitter& e, const std::array<T, N>& v) { FixedCodec<T, N>::encode(e, v.data()); }
};

template <class T, std::size_t N>
struct Codec<T[N]> {
  static std::string type() { return FixedCodec<T, N>::type(); }
  static std::string expected() { return FixedCodec<T, N>::expected(); }
  static void decode(const YAML::Node& n, T (&out)[N]) { FixedCodec<T, N>::decode(n, out); }
  static void encode(YAML::Emitter& e, const T (&v)[N]) { FixedCodec<T, N>::encode(e, v); }
};

// model.anchors: a flat vector<int> in TrainConfig, written as [w, h] pairs
// (what `yolo anchors` prints); a flat list is accepted too.
struct AnchorsCodec {
  static std::string type() { return "list[[w,h]]"; }
  static std::string expected() { return "a list of [w, h] pairs (or a flat list w0, h0, w1, h1, ...)"; }
  static void decode(const YAML::Node& n, std::vector<int>& out) {
    if (n.IsNull()) {
      out.clear();
      return;
    }
    if (!n.IsSequence()) fail(n, expected());
    std::vector<int> v;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const YAML::Node item = n[i];
      if (item.IsSequence()) {
        if (item.size() != 2) throw DecodeError{fmt::format("anchor {} must be a [w, h] pair, got {} values", i, item.size()), item.Mark()};
        v.push_back(decode_integer<int>(item[0], "an integer"));
        v.push_back(decode_integer<int>(item[1], "an integer"));
      } else {
        v.push_back(decode_integer<int>(item, "an integer or a [w, h] pair"));
      }
    }
    out = std::move(v);
  }
  static void encode(YAML::Emitter& e, const std::vector<int>& v) {
    e << YAML::Flow << YAML::BeginSeq;
    for (std::size_t i = 0; i + 1 < v.size(); i += 2) e << YAML::BeginSeq << v[i] << v[i + 1] << YAML::EndSeq;
    if (v.size() % 2 == 1) e << v.back();  // odd lists are kept for validation to report
    e << YAML::EndSeq;
  }
};

}  // namespace train::config_internal

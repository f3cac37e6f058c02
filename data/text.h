// Small text helpers shared by the readers: trimming and strict numbers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace data {

std::string trim(std::string_view s);

// The whole of s (after trimming) as a number, or nullopt: "12", "3.5",
// "-1e3" parse; "", "12px", "nan" do not.
std::optional<double> parse_number(std::string_view s);

// Splits on runs of whitespace.
std::vector<std::string> split_whitespace(std::string_view s);

// Splits on every `sep`, keeping empty fields ("a::b" -> "a", "", "b").
std::vector<std::string> split_on(const std::string& s, char sep);

}  // namespace data

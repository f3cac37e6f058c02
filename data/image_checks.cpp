#include "data/image_checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace data {

namespace {

std::uint8_t byte_at(const std::string& b, std::size_t i) { return static_cast<std::uint8_t>(b[i]); }

// Markers that stand alone, without a length field: TEM, RST0-7, SOI, EOI.
bool has_no_length(std::uint8_t m) { return m == 0x01 || (m >= 0xD0 && m <= 0xD9); }

// The DHT payload [begin, end): tables of (class/id byte, 16 counts, symbols).
// stb starts a table whenever bytes of the declared length remain, reads its
// counts even past the segment's end, and reads zeros past the end of the
// file, so this does too (a table cut off by the end of the file counts).
std::optional<std::string> check_dht(const std::string& b, std::size_t begin, std::size_t end) {
  std::size_t at = begin;
  while (at < end && at < b.size()) {
    int codes = 0;
    for (std::size_t i = 1; i <= 16 && at + i < b.size(); ++i) codes += byte_at(b, at + i);
    if (codes > 256) {
      return fmt::format("Huffman table at byte {} declares {} codes (at most 256)", at, codes);
    }
    at += 17 + static_cast<std::size_t>(codes);
  }
  return std::nullopt;
}

// Every chunk up to IEND must fit in the file: length, type, data, CRC.
std::optional<std::string> find_oversized_png_chunk(const std::string& b) {
  std::size_t at = 8;  // after the signature
  while (at + 8 <= b.size()) {
    const std::uint64_t length = (std::uint64_t(byte_at(b, at)) << 24) | (std::uint64_t(byte_at(b, at + 1)) << 16) |
                                 (std::uint64_t(byte_at(b, at + 2)) << 8) | byte_at(b, at + 3);
    const std::string type = b.substr(at + 4, 4);
    const std::uint64_t left = b.size() - at - 8;
    if (length + 4 > left) {
      return fmt::format("PNG chunk '{}' at byte {} declares {} bytes, the file has {} left", type, at, length, left);
    }
    if (type == "IEND") break;
    at += 12 + static_cast<std::size_t>(length);
  }
  return std::nullopt;
}

// Binary PNM (P5, P6): three decimal numbers (width, height, maxval) after
// the magic, separated by whitespace and # comments, read the way stb reads
// them. stb's reader overflows an int on long numbers, and its 16-bit path
// (maxval > 255) converts with the 8-bit routine, reading past its buffer.
std::optional<std::string> find_bad_pnm_header(const std::string& b) {
  std::size_t at = 2;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
  const char* names[] = {"width", "height", "maxval"};
  std::int64_t maxval = 0;
  for (const char* what : names) {
    for (;;) {  // whitespace, then a comment up to the end of its line
      while (at < b.size() && is_space(b[at])) ++at;
      if (at >= b.size() || b[at] != '#') break;
      while (at < b.size() && b[at] != '\n' && b[at] != '\r') ++at;
    }
    std::int64_t value = 0;
    int digits = 0;
    for (; at < b.size() && b[at] >= '0' && b[at] <= '9'; ++at) {
      if (++digits > 9) return fmt::format("PNM {} has more than 9 digits", what);
      value = value * 10 + (b[at] - '0');
    }
    maxval = value;
  }
  if (maxval > 255) return fmt::format("16-bit PNM (maxval {}) is not supported; convert it to 8 bits", maxval);
  return std::nullopt;
}

bool is_pnm(const std::string& b) { return b.size() >= 2 && b[0] == 'P' && (b[1] == '5' || b[1] == '6'); }
// stb reads the start marker like any other, so fill bytes (0xFF) may come
// before it: the position after SOI, or 0 when the bytes are not a JPEG.
std::size_t jpeg_start(const std::string& b) {
  std::size_t at = 0;
  while (at < b.size() && byte_at(b, at) == 0xFF) ++at;
  return at >= 1 && at < b.size() && byte_at(b, at) == 0xD8 ? at + 1 : 0;
}
bool is_png(const std::string& b) { return b.size() >= 8 && b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0; }

// Walks the JPEG's marker segments, skipping entropy-coded data after each
// scan, and checks every Huffman table.
std::optional<std::string> find_bad_jpeg_huffman_table(const std::string& b, std::size_t at) {
  while (at + 1 < b.size()) {
    if (byte_at(b, at) != 0xFF) {
      // Entropy-coded data (after a scan) or garbage: find the next marker,
      // which is 0xFF followed by neither a stuffed 0x00 nor an RST marker.
      ++at;
      continue;
    }
    std::size_t m_at = at + 1;
    while (m_at < b.size() && byte_at(b, m_at) == 0xFF) ++m_at;  // fill bytes
    if (m_at >= b.size()) break;
    const std::uint8_t marker = byte_at(b, m_at);
    if (marker == 0x00 || has_no_length(marker)) {
      if (marker == 0xD9) break;  // EOI
      at = m_at + 1;
      continue;
    }
    if (m_at + 2 >= b.size()) break;
    const std::size_t length = (std::size_t(byte_at(b, m_at + 1)) << 8) | byte_at(b, m_at + 2);
    const std::size_t payload = m_at + 3;
    const std::size_t end = std::min(b.size(), m_at + 1 + length);
    if (marker == 0xC4 && length >= 2) {
      if (auto problem = check_dht(b, payload, end)) return problem;
    }
    at = std::max(end, payload);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> find_image_structure_problem(const std::string& bytes) {
  if (const std::size_t after_soi = jpeg_start(bytes)) return find_bad_jpeg_huffman_table(bytes, after_soi);
  if (is_png(bytes)) return find_oversized_png_chunk(bytes);
  if (is_pnm(bytes)) return find_bad_pnm_header(bytes);
  return std::nullopt;
}

}  // namespace data

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
// stb starts a table whenever bytes of the declared length remain, and then
// reads its counts even past the segment's end, so this does too.
std::optional<std::string> check_dht(const std::string& b, std::size_t begin, std::size_t end) {
  std::size_t at = begin;
  while (at < end && at + 17 <= b.size()) {
    int codes = 0;
    for (std::size_t i = 1; i <= 16; ++i) codes += byte_at(b, at + i);
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

bool is_jpeg(const std::string& b) { return b.size() >= 4 && byte_at(b, 0) == 0xFF && byte_at(b, 1) == 0xD8; }
bool is_png(const std::string& b) { return b.size() >= 8 && b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0; }

// Walks the JPEG's marker segments, skipping entropy-coded data after each
// scan, and checks every Huffman table.
std::optional<std::string> find_bad_jpeg_huffman_table(const std::string& b) {
  std::size_t at = 2;
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
  if (is_jpeg(bytes)) return find_bad_jpeg_huffman_table(bytes);
  if (is_png(bytes)) return find_oversized_png_chunk(bytes);
  return std::nullopt;
}

}  // namespace data

// Structural pre-checks of image bytes for damage that Debian's stb_image
// (2022-09 snapshot) does not catch before acting on it. Both were found by
// fuzz/fuzz_image.cpp:
// - a JPEG Huffman table (DHT segment) declaring more than 256 codes makes
//   stbi__build_huffman write past its 257-entry arrays (later stb releases
//   reject such tables too);
// - a PNG chunk's length is trusted for an IDAT buffer allocation before
//   the bytes are read, so a 50-byte file can ask for gigabytes;
// - a 16-bit binary PNM (maxval > 255) is converted with the 8-bit routine,
//   which reads past the decoded buffer; long header numbers overflow an int.
#pragma once

#include <optional>
#include <string>

namespace data {

// A description of the first such problem, or nothing when there is none or
// the bytes are not JPEG, PNG or binary PNM (stb reports other damage itself).
std::optional<std::string> find_image_structure_problem(const std::string& bytes);

}  // namespace data

// A pre-check of JPEG files for damage that Debian's stb_image (2022-09
// snapshot) does not catch itself: a Huffman table (DHT segment) declaring
// more than 256 codes makes stbi__build_huffman write past its 257-entry
// arrays. Later stb releases reject such tables; this check does the same
// before the bytes reach stb. Found by fuzz/fuzz_image.cpp.
#pragma once

#include <optional>
#include <string>

namespace data {

// Walks the JPEG's marker segments (skipping entropy-coded data after each
// scan) and returns a description of the first bad Huffman table, or nothing
// when every table is sound or the bytes are not a JPEG at all (stb reports
// other damage itself).
std::optional<std::string> find_bad_jpeg_huffman_table(const std::string& bytes);

}  // namespace data

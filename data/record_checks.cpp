#include "data/record_checks.h"

#include <fmt/format.h>

#include "core/error.h"
#include "data/image.h"

namespace data {

bool box_is_valid(const Box& box, int width, int height) {
  return box.x2 > box.x1 && box.y2 > box.y1 && box.x1 >= 0 && box.y1 >= 0 && box.x2 <= width + 1.0f &&
         box.y2 <= height + 1.0f;
}

void check_box(const std::string& where, const Box& box, int width, int height) {
  if (box_is_valid(box, width, height)) return;
  const auto text = fmt::format("({:g},{:g},{:g},{:g})", box.x1, box.y1, box.x2, box.y2);
  if (box.x2 <= box.x1 || box.y2 <= box.y1) {
    throw core::IoError(fmt::format("{}: box {} has negative or zero size", where, text));
  }
  throw core::IoError(fmt::format("{}: box {} lies outside the {}x{} image", where, text, width, height));
}

void check_image_file(ImageRecord& record) {
  const ImageSize size = read_image_size(record.path);
  if (record.width <= 0 || record.height <= 0) {
    record.width = size.width;
    record.height = size.height;
  }
}

}  // namespace data

// Checks every reader applies to what it read, so the three formats reject
// the same mistakes with the same words.
#pragma once

#include <string>

#include "data/dataset.h"

namespace data {

// Throws core::IoError "<where>: box (x1,y1,x2,y2) ..." when the box has
// negative or zero size or lies outside a width x height image. One pixel of
// slack on the far sides admits VOC's 1-based inclusive xmax == width.
void check_box(const std::string& where, const Box& box, int width, int height);

// The test check_box applies, without building a message (hot loops).
bool box_is_valid(const Box& box, int width, int height);

// Throws core::IoError naming the image when it is missing, empty or has an
// unreadable header; returns its size.
void check_image_file(ImageRecord& record);

}  // namespace data

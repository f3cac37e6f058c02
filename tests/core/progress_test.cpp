// Progress lines: a tenth of the way at a time off a terminal, a redrawn bar
// on one, and always a last line with the total time and rate.
#include "core/progress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace core {
namespace {

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(Progress, OffATerminalALineEveryTenth) {
  std::ostringstream out;
  Progress p(out, "eval", "images", 250, false);
  for (std::size_t done = 1; done <= 250; ++done) p.update(done);
  const std::string text = out.str();
  EXPECT_EQ(count_lines(text), 10) << text;  // 10%..90%, then the last line
  EXPECT_NE(text.find("eval: 10% (25/250 images)"), std::string::npos) << text;
  EXPECT_NE(text.find("ETA"), std::string::npos) << text;
  EXPECT_NE(text.find("eval: 250 images in"), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(Progress, OnATerminalOneRedrawnLine) {
  std::ostringstream out;
  Progress p(out, "detect", "images", 4, true);
  p.update(1);
  p.update(2);
  EXPECT_EQ(count_lines(out.str()), 0);
  EXPECT_NE(out.str().find("\rdetect [==============="), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("2/4 images"), std::string::npos);
  p.update(4);
  EXPECT_EQ(count_lines(out.str()), 1);
}

TEST(Progress, NothingForAnEmptyLoop) {
  std::ostringstream out;
  Progress p(out, "detect", "images", 0, false);
  p.update(0);
  EXPECT_TRUE(out.str().empty());
}

TEST(Progress, EtaFormat) {
  EXPECT_EQ(format_eta(12.4), "12s");
  EXPECT_EQ(format_eta(185), "3m05s");
  EXPECT_EQ(format_eta(3725), "1h02m");
  EXPECT_EQ(format_eta(-3), "0s");
}

}  // namespace
}  // namespace core

// detect_image: runs a yolo_cpu detector on one image file and prints one
// line per detected box, best score first:
//   CLASS_ID CLASS_NAME SCORE X1 Y1 X2 Y2        (pixels of the image)
//
//   detect_image [--cfg FILE.cfg] [--thresh T] WEIGHTS IMAGE
//
// WEIGHTS is a checkpoint of `yolo train` (or Darknet .weights with --cfg).
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

#include <yolo_cpu/yolo_cpu.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

struct Args {
  std::string cfg, weights, image;
  yolo_cpu::DetectorOptions options;
};

bool parse_args(int argc, char** argv, Args& args) {
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--cfg" && i + 1 < argc) {
      args.cfg = argv[++i];
    } else if (arg == "--thresh" && i + 1 < argc) {
      args.options.score_threshold = std::strtof(argv[++i], nullptr);
    } else if (positional == 0) {
      args.weights = arg, ++positional;
    } else if (positional == 1) {
      args.image = arg, ++positional;
    } else {
      return false;
    }
  }
  return positional == 2;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse_args(argc, argv, args)) {
    std::fprintf(stderr, "usage: detect_image [--cfg FILE.cfg] [--thresh T] WEIGHTS IMAGE\n");
    return 2;
  }
  int width = 0, height = 0, channels = 0;
  // Three channels whatever the file holds: interleaved 8-bit RGB.
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load(args.image.c_str(), &width, &height, &channels, 3),
                                                   stbi_image_free);
  if (!pixels) {
    std::fprintf(stderr, "detect_image: cannot read %s: %s\n", args.image.c_str(), stbi_failure_reason());
    return 1;
  }
  try {
    const yolo_cpu::Detector detector = args.cfg.empty()
                                            ? yolo_cpu::Detector::load(args.weights, args.options)
                                            : yolo_cpu::Detector::load(args.cfg, args.weights, args.options);
    const std::size_t bytes = static_cast<std::size_t>(width) * height * 3;
    for (const yolo_cpu::Detection& d : detector.detect(pixels.get(), bytes, width, height)) {
      std::printf("%d %s %.9g %.9g %.9g %.9g %.9g\n", d.class_id, d.class_name.c_str(), d.score, d.x1, d.y1, d.x2,
                  d.y2);
    }
  } catch (const yolo_cpu::Error& e) {
    std::fprintf(stderr, "detect_image: %s\n", e.what());
    return 1;
  }
  return 0;
}

// `yolo detect --video` end to end, and the FFmpeg reader and writer under
// it. Each test makes its own short video from the synthetic shapes
// pictures with VideoWriter (H.264 in MP4, 64x64, 10 frames/s), then runs
// the narrow random-weight model of InferenceFixture on it: the boxes are
// noise, so the checks are on frames, timestamps, files and errors.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <random>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/image.h"
#include "tests/tools/inference_fixture.h"
#include "tools/yolo/video_io.h"

namespace yolo {
namespace {

namespace fs = std::filesystem;

constexpr int kFrames = 25;  // not a multiple of 3, so --every 3 rounds up

class DetectVideo : public InferenceFixture {
 protected:
  // A shapes picture (at most 64 pixels a side) on a grey 64x64 frame.
  static data::Image framed(const std::string& picture) {
    const data::Image image = data::load_image(picture);
    data::Image frame(64, 64, 128.0f);
    for (int y = 0; y < std::min(64, image.height); ++y) {
      for (int x = 0; x < std::min(64, image.width); ++x) std::copy_n(image.at(x, y), 3, frame.at(x, y));
    }
    return frame;
  }

  // The shapes pictures one after another (wrapping around) as a video.
  std::string make_video(const std::string& name, int frames = kFrames) {
    std::vector<fs::path> pictures;
    for (const auto& e : fs::directory_iterator(path("shapes/voc/JPEGImages"))) pictures.push_back(e.path());
    std::sort(pictures.begin(), pictures.end());
    const std::string file = path(name);
    VideoWriter writer(file, 64, 64, FrameRate{10, 1});
    for (int i = 0; i < frames; ++i) writer.write(framed(pictures[std::size_t(i) % pictures.size()].string()));
    writer.finish();
    return file;
  }

  static std::vector<nlohmann::json> read_lines(const std::string& file) {
    std::ifstream in(file);
    EXPECT_TRUE(in) << file;
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }

  struct Decoded {
    VideoInfo info;
    std::vector<VideoFrame> frames;
    std::string failure;
  };
  static Decoded decode(const std::string& file) {
    VideoReader reader(file);
    Decoded d{reader.info(), {}, {}};
    while (auto frame = reader.next()) d.frames.push_back(std::move(*frame));
    d.failure = reader.failure();
    return d;
  }
};

TEST_F(DetectVideo, EveryFrameGivesAVideoAndOneJsonLinePerFrame) {
  const std::string video = make_video("in.mp4");
  ASSERT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--video", video, "--out", path("out.mp4"), "--thresh",
                 "0.05"}),
            0)
      << err_.str();
  const Decoded out = decode(path("out.mp4"));
  EXPECT_EQ(out.failure, "");
  EXPECT_EQ(out.frames.size(), std::size_t(kFrames));
  EXPECT_EQ(out.info.width, 64);
  EXPECT_EQ(out.info.height, 64);
  EXPECT_DOUBLE_EQ(out.info.frame_rate.value(), 10.0);

  // OUT.mp4 -> OUT.jsonl by default.
  const std::vector<nlohmann::json> lines = read_lines(path("out.jsonl"));
  ASSERT_EQ(lines.size(), std::size_t(kFrames));
  std::size_t boxes = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].at("frame").get<int>(), int(i));
    EXPECT_NEAR(lines[i].at("time").get<double>(), 0.1 * double(i), 1e-6);
    for (const auto& d : lines[i].at("detections")) {
      const auto box = d.at("bbox").get<std::vector<double>>();
      ASSERT_EQ(box.size(), 4u);
      EXPECT_GE(box[0], 0.0);
      EXPECT_GE(box[1], 0.0);
      EXPECT_LE(box[0] + box[2], 64.01);
      EXPECT_LE(box[1] + box[3], 64.01);
      const std::string category = d.at("category").get<std::string>();
      EXPECT_TRUE(category == "circle" || category == "rectangle") << category;
      EXPECT_GT(d.at("score").get<double>(), 0.05);
      ++boxes;
    }
  }
  EXPECT_GT(boxes, 0u) << "with --thresh 0.05 even random weights give boxes";
  EXPECT_NE(out_.str().find("libx264"), std::string::npos) << out_.str();
}

TEST_F(DetectVideo, FramesGetTheDetectionsOfTheSamePictureAsAnImage) {
  const std::string video = make_video("in.mp4", 3);
  // The first frame as the video decoder gives it, as a lossless picture.
  data::write_bytes(path("frame0.png"), data::encode_png(decode(video).frames.at(0).image));
  ASSERT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--image", path("frame0.png"), "--out", path("f.png"),
                 "--json", path("f.json"), "--thresh", "0.05"}),
            0)
      << err_.str();
  ASSERT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--video", video, "--out", path("v.mkv"), "--thresh", "0.05",
                 "--json", path("v.jsonl")}),
            0)
      << err_.str();
  const nlohmann::json image_dets = nlohmann::json::parse(core::read_file(path("f.json")));
  const nlohmann::json frame_dets = read_lines(path("v.jsonl")).at(0).at("detections");
  ASSERT_EQ(frame_dets.size(), image_dets.size());
  ASSERT_FALSE(frame_dets.empty());
  for (std::size_t k = 0; k < frame_dets.size(); ++k) {
    EXPECT_EQ(frame_dets[k].at("category"), image_dets[k].at("category"));
    EXPECT_NEAR(frame_dets[k].at("score").get<double>(), image_dets[k].at("score").get<double>(), 1e-4);
    for (int c = 0; c < 4; ++c) {
      EXPECT_NEAR(frame_dets[k].at("bbox")[c].get<double>(), image_dets[k].at("bbox")[c].get<double>(), 0.01);
    }
  }
}

TEST_F(DetectVideo, EveryThirdFrameKeepsOnlyThoseAtAThirdOfTheRate) {
  const std::string video = make_video("in.mp4");
  ASSERT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--video", video, "--out", path("third.mp4"), "--every", "3",
                 "--json", path("third_dets.jsonl"), "--batch", "4"}),
            0)
      << err_.str();
  const std::size_t processed = (kFrames + 2) / 3;
  const Decoded out = decode(path("third.mp4"));
  EXPECT_EQ(out.failure, "");
  EXPECT_EQ(out.frames.size(), processed);
  EXPECT_NEAR(out.info.frame_rate.value(), 10.0 / 3, 1e-9);
  const std::vector<nlohmann::json> lines = read_lines(path("third_dets.jsonl"));
  ASSERT_EQ(lines.size(), processed);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].at("frame").get<std::size_t>(), 3 * i);
    if (i > 0) {
      EXPECT_GT(lines[i].at("time").get<double>(), lines[i - 1].at("time").get<double>());
    }
  }
  EXPECT_FALSE(fs::exists(path("third.jsonl")));
}

TEST_F(DetectVideo, TruncatedVideoFailsNamingItAfterFinishingThePartialOutput) {
  const std::string whole = core::read_file(make_video("in.mp4"));
  const std::string cut = path("cut.mp4");
  core::write_file_atomic(cut, whole.substr(0, whole.size() / 2));
  EXPECT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--video", cut, "--out", path("partial.mp4")}), 1);
  EXPECT_NE(err_.str().find(cut), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("truncated"), std::string::npos) << err_.str();

  const Decoded out = decode(path("partial.mp4"));
  EXPECT_EQ(out.failure, "") << "the partial output is a complete video";
  EXPECT_GT(out.frames.size(), 0u);
  EXPECT_LT(out.frames.size(), std::size_t(kFrames));
  EXPECT_EQ(read_lines(path("partial.jsonl")).size(), out.frames.size());
  EXPECT_FALSE(fs::exists(path("partial.mp4.partial")));
}

TEST_F(DetectVideo, AVideoCutBeforeItsFirstFrameWritesNothing) {
  // The MP4's index is at the front (faststart); cut 16 bytes into the
  // frame data that follows it, so the file opens but no frame decodes.
  const std::string whole = core::read_file(make_video("in.mp4"));
  const std::size_t frame_data = whole.find("mdat");
  ASSERT_NE(frame_data, std::string::npos);
  const std::string cut = path("headless.mp4");
  core::write_file_atomic(cut, whole.substr(0, frame_data + 4 + 16));
  EXPECT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--video", cut, "--out", path("none.mp4")}), 1);
  EXPECT_NE(err_.str().find(cut + ": "), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("no frame could be decoded, nothing was written"), std::string::npos) << err_.str();
  EXPECT_FALSE(fs::exists(path("none.mp4")));
  EXPECT_FALSE(fs::exists(path("none.mp4.partial")));
  EXPECT_FALSE(fs::exists(path("none.jsonl")));
}

TEST_F(DetectVideo, ClearErrors) {
  const std::string video = make_video("in.mp4", 2);
  // Not a video at all.
  std::ofstream(path("notes.mp4")) << "these are notes, not a video\n";
  EXPECT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--video", path("notes.mp4"), "--out", path("o.mp4")}), 1);
  EXPECT_NE(err_.str().find(path("notes.mp4") + ": FFmpeg cannot read it as a video"), std::string::npos) << err_.str();
  EXPECT_FALSE(fs::exists(path("o.mp4")));
  // A missing file.
  EXPECT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--video", path("none.mp4"), "--out", path("o.mp4")}), 1);
  EXPECT_NE(err_.str().find(path("none.mp4")), std::string::npos) << err_.str();
  // An output name FFmpeg has no container for.
  EXPECT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--video", video, "--out", path("o.weird")}), 1);
  EXPECT_NE(err_.str().find(path("o.weird") + ": FFmpeg knows no video container"), std::string::npos) << err_.str();
  // An output folder that does not exist.
  EXPECT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--video", video, "--out", path("no/such/o.mp4")}), 1);
  EXPECT_NE(err_.str().find(path("no/such/o.mp4") + ": cannot create"), std::string::npos) << err_.str();
  // Flags: --out is required, --every needs a video and a positive N, --out is not the input.
  EXPECT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--video", video}), 1);
  EXPECT_NE(err_.str().find("--out OUT.mp4"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--image", path("shapes/voc/JPEGImages/000000.jpg"), "--out",
                 path("x.png"), "--every", "2"}),
            1);
  EXPECT_NE(err_.str().find("--every"), std::string::npos) << err_.str();
  EXPECT_NE(run({"detect", "--weights", path("tiny.ckpt"), "--video", video, "--out", path("o.mp4"), "--every", "0"}), 0);
  EXPECT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--video", video, "--out", video}), 1);
  EXPECT_NE(err_.str().find("is the input video"), std::string::npos) << err_.str();
}

TEST(VideoIo, OddSizesArePaddedToEvenOnes) {
  const fs::path file = fs::temp_directory_path() / ("odd_" + std::to_string(std::random_device{}()) + ".mkv");
  {
    VideoWriter writer(file.string(), 63, 47, FrameRate{30000, 1001});
    data::Image frame(63, 47, 200.0f);
    for (int i = 0; i < 4; ++i) writer.write(frame);
    EXPECT_THROW(writer.write(data::Image(64, 47)), core::ValueError);
    writer.finish();
  }
  VideoReader reader(file.string());
  EXPECT_EQ(reader.info().width, 64);
  EXPECT_EQ(reader.info().height, 48);
  EXPECT_EQ(reader.info().frame_rate.num, 30000);
  EXPECT_EQ(reader.info().frame_rate.den, 1001);
  int frames = 0;
  while (auto f = reader.next()) {
    ++frames;
    // The padding copies the last row and column, so the corner keeps the picture's grey.
    EXPECT_NEAR(f->image.at(63, 47)[0], 200.0f, 4.0f);
  }
  EXPECT_EQ(frames, 4);
  EXPECT_EQ(reader.failure(), "");
  fs::remove(file);
}

TEST(VideoIo, ColoursSurviveTheRoundTrip) {
  // Red, green and blue bands: a swapped channel or a wrong YUV matrix shows.
  const fs::path file = fs::temp_directory_path() / ("colours_" + std::to_string(std::random_device{}()) + ".mp4");
  data::Image frame(48, 48);
  for (int y = 0; y < 48; ++y) {
    for (int x = 0; x < 48; ++x) frame.at(x, y)[x / 16] = 230.0f;
  }
  {
    VideoWriter writer(file.string(), 48, 48, FrameRate{25, 1});
    writer.write(frame);
    writer.finish();
  }
  VideoReader reader(file.string());
  const std::optional<VideoFrame> decoded = reader.next();
  ASSERT_TRUE(decoded);
  for (int band = 0; band < 3; ++band) {
    const float* px = decoded->image.at(band * 16 + 8, 24);  // the band's middle, away from chroma edges
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(px[c], c == band ? 230.0f : 0.0f, 12.0f) << "band " << band << " channel " << c;
  }
  EXPECT_EQ(decoded->seconds, 0.0);
  EXPECT_FALSE(reader.next());
  fs::remove(file);
}

TEST(VideoIo, ACutMatroskaFileIsCaughtByTheLengthItStates) {
  // Matroska's demuxer ends a cut file as if it were whole; only the
  // duration in its header shows that frames are missing.
  const std::string stem = (fs::temp_directory_path() / ("cut_" + std::to_string(std::random_device{}()))).string();
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> noise(0.0f, 255.0f);
  {
    VideoWriter writer(stem + ".mkv", 64, 64, FrameRate{30, 1});
    for (int i = 0; i < 30; ++i) {
      data::Image frame(64, 64);
      for (float& v : frame.pixels) v = noise(rng);  // noise: the frames, not the header, fill the file
      writer.write(frame);
    }
    writer.finish();
  }
  const auto read_all = [](const std::string& file) {
    VideoReader reader(file);
    int frames = 0;
    while (reader.next()) ++frames;
    return std::make_pair(frames, reader.failure());
  };
  const auto [whole_frames, whole_failure] = read_all(stem + ".mkv");
  EXPECT_EQ(whole_frames, 30);
  EXPECT_EQ(whole_failure, "");

  const std::string bytes = core::read_file(stem + ".mkv");
  core::write_file_atomic(stem + "_half.mkv", bytes.substr(0, bytes.size() / 2));
  const auto [cut_frames, cut_failure] = read_all(stem + "_half.mkv");
  EXPECT_GT(cut_frames, 5);
  EXPECT_LT(cut_frames, 25);
  EXPECT_NE(cut_failure.find(stem + "_half.mkv: the frames end at"), std::string::npos) << cut_failure;
  EXPECT_NE(cut_failure.find("of the 1.00 s the file declares: it is truncated"), std::string::npos) << cut_failure;
  fs::remove(stem + ".mkv");
  fs::remove(stem + "_half.mkv");
}

TEST(VideoIo, AnUnfinishedWriterLeavesNoFile) {
  const fs::path file = fs::temp_directory_path() / ("unfinished_" + std::to_string(std::random_device{}()) + ".mp4");
  {
    VideoWriter writer(file.string(), 32, 32, FrameRate{25, 1});
    writer.write(data::Image(32, 32, 10.0f));
  }
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(fs::exists(file.string() + ".partial"));
}

}  // namespace
}  // namespace yolo

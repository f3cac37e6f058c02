// Video files through FFmpeg (libavformat, libavcodec, libswscale): frames
// come out of a VideoReader and go into a VideoWriter as data::Image RGB
// pictures, so the detector and the drawing code see a video frame exactly
// as they see a decoded image. No FFmpeg type appears here; only
// video_reader.cpp and video_writer.cpp include FFmpeg (docs/video.md).
// Not a player: audio and subtitle streams are ignored (and not copied),
// nothing seeks, rotation metadata is not applied.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "data/image.h"

namespace yolo {

// Frames per second as a fraction (30000/1001 for NTSC's 29.97).
struct FrameRate {
  int num = 25;
  int den = 1;
  double value() const { return static_cast<double>(num) / den; }
};

struct VideoInfo {
  int width = 0, height = 0;  // every frame is delivered at this size
  FrameRate frame_rate;       // the stream's average rate; 25/1 when the file does not say
  bool frame_rate_guessed = false;
  // The number of frames the container declares, else its duration times the
  // frame rate; 0 when neither is known. An estimate, for progress reports.
  std::int64_t expected_frames = 0;
  std::string codec;          // the decoder's name ("h264")
};

struct VideoFrame {
  std::int64_t index = 0;  // from 0, in presentation order
  double seconds = 0;      // presentation time after the stream's first frame
  data::Image image;       // RGB, VideoInfo's size
};

// Decodes the best video stream of a file (any container and codec the
// system's FFmpeg reads) into RGB frames.
class VideoReader {
 public:
  // Throws core::IoError naming the path when the file is missing, is not
  // something FFmpeg reads, holds no video stream or has no decoder here.
  explicit VideoReader(const std::string& path);
  ~VideoReader();
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  const VideoInfo& info() const;

  // The next frame, or nothing at the end. A damaged container (a truncated
  // or corrupt file) also ends the frames, after those the decoder still
  // held; packets the decoder rejects are skipped. failure() tells both.
  std::optional<VideoFrame> next();

  // Empty after a clean read; otherwise what went wrong, naming the file.
  std::string failure() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Encodes RGB frames into a video file. The container follows the file name
// (.mp4, .mkv, .avi, ...); the codec is H.264 through libx264 where this
// FFmpeg has it (Debian's does), else MPEG-4 Part 2. The file is written
// under a temporary name beside `path` and renamed into place by finish(),
// so `path` never holds a half-written video.
class VideoWriter {
 public:
  // Frames are width x height; an odd side is padded by one row or column
  // (a copy of the last) because 4:2:0 video needs even sizes. Throws
  // core::IoError naming the path when the container, the codec or the
  // file cannot be set up, core::ValueError for a non-positive size or rate.
  VideoWriter(const std::string& path, int width, int height, FrameRate frame_rate);
  // Without finish() (an exception on the way) the temporary file is removed.
  ~VideoWriter();
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  // Appends one frame; throws core::ValueError for a frame of another size,
  // core::IoError naming the path when encoding or writing fails.
  void write(const data::Image& frame);

  // Flushes the encoder, completes the container and moves the file to its
  // name. Throws core::IoError naming the path.
  void finish();

  const std::string& codec() const;  // "libx264" or "mpeg4"
  std::int64_t frames_written() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace yolo

// Owning handles for FFmpeg's C objects, shared by video_reader.cpp and
// video_writer.cpp (and included by nothing else): each is a unique_ptr
// whose deleter is FFmpeg's own free function, so every exit path releases
// what was allocated. Also FFmpeg's error codes as text, and its log level.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

namespace yolo::ffmpeg {

struct InputCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct OutputFreer {
  // The caller closes the file (avio_closep) before this runs.
  void operator()(AVFormatContext* c) const { avformat_free_context(c); }
};
struct CodecFreer {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameFreer {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketFreer {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct ScalerFreer {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};

using InputFormat = std::unique_ptr<AVFormatContext, InputCloser>;
using OutputFormat = std::unique_ptr<AVFormatContext, OutputFreer>;
using Codec = std::unique_ptr<AVCodecContext, CodecFreer>;
using Frame = std::unique_ptr<AVFrame, FrameFreer>;
using Packet = std::unique_ptr<AVPacket, PacketFreer>;
using Scaler = std::unique_ptr<SwsContext, ScalerFreer>;

// An FFmpeg error code as FFmpeg words it ("Invalid data found when
// processing input"); av_err2str is a C compound literal, not C++.
inline std::string error_text(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

// FFmpeg logs to stderr on its own; below errors (x264's statistics, the
// decoders' notes) it would drown the progress bar. The level is FFmpeg's
// one process-wide setting; every video error also reaches our exception.
inline void quiet_logs() { av_log_set_level(AV_LOG_ERROR); }

}  // namespace yolo::ffmpeg

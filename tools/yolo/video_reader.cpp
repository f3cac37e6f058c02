// VideoReader: demux (libavformat), decode (libavcodec), convert to RGB
// (libswscale). The loop is FFmpeg's send/receive protocol: the decoder is
// asked for a frame, and only when it wants more input is the next packet
// of the video stream read and sent; at the end of the file (or at a
// damaged container) a null packet makes it give back the frames it holds.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/error.h"
#include "tools/yolo/ffmpeg_handles.h"
#include "tools/yolo/video_io.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace yolo {

using core::IoError;

struct VideoReader::State {
  std::string path;
  ffmpeg::InputFormat format;
  ffmpeg::Codec decoder;
  ffmpeg::Frame decoded = ffmpeg::Frame(av_frame_alloc());
  ffmpeg::Frame rgb = ffmpeg::Frame(av_frame_alloc());
  ffmpeg::Packet packet = ffmpeg::Packet(av_packet_alloc());
  ffmpeg::Scaler scaler;
  int stream = -1;
  AVRational time_base{1, 1};
  std::int64_t first_timestamp = AV_NOPTS_VALUE;
  std::int64_t next_index = 0;
  double last_seconds = -1;  // of the last frame delivered
  bool draining = false;  // the decoder was told the input ended
  bool ended = false;
  std::string container_error;  // why reading stopped early
  std::int64_t rejected_packets = 0;
  std::string first_rejection;
  std::int64_t damaged_frames = 0;  // delivered with errors the decoder concealed
  VideoInfo info;

  void open();
  void describe_stream();
  std::optional<double> declared_end() const;
  double stream_start() const;
  void check_complete();
  void feed_decoder();
  void start_draining();
  VideoFrame take_frame();
  void convert_to_rgb(data::Image& image);
};

namespace {

FrameRate frame_rate_of(const AVStream& stream, bool& guessed) {
  AVRational rate = stream.avg_frame_rate;
  if (rate.num <= 0 || rate.den <= 0) rate = stream.r_frame_rate;
  guessed = rate.num <= 0 || rate.den <= 0;
  if (guessed) return FrameRate{25, 1};
  av_reduce(&rate.num, &rate.den, rate.num, rate.den, 1 << 30);
  return FrameRate{rate.num, rate.den};
}

// The video stream's duration, else the container's (which may include a
// slightly longer audio stream); 0 when the file states neither.
double stated_duration(const AVFormatContext& format, const AVStream& st) {
  if (st.duration != AV_NOPTS_VALUE && st.duration > 0) return double(st.duration) * av_q2d(st.time_base);
  if (format.duration != AV_NOPTS_VALUE && format.duration > 0) return double(format.duration) / AV_TIME_BASE;
  return 0;
}

}  // namespace

void VideoReader::State::open() {
  ffmpeg::quiet_logs();
  AVFormatContext* raw = nullptr;
  if (const int r = avformat_open_input(&raw, path.c_str(), nullptr, nullptr); r < 0) {
    throw IoError(fmt::format("{}: FFmpeg cannot read it as a video: {}", path, ffmpeg::error_text(r)));
  }
  format.reset(raw);
  if (const int r = avformat_find_stream_info(format.get(), nullptr); r < 0) {
    throw IoError(fmt::format("{}: cannot read the streams' parameters: {}", path, ffmpeg::error_text(r)));
  }
  const AVCodec* codec = nullptr;
  stream = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (stream == AVERROR_STREAM_NOT_FOUND) throw IoError(fmt::format("{}: holds no video stream", path));
  if (stream == AVERROR_DECODER_NOT_FOUND) {
    throw IoError(fmt::format("{}: this FFmpeg has no decoder for its video codec", path));
  }
  if (stream < 0) throw IoError(fmt::format("{}: no usable video stream: {}", path, ffmpeg::error_text(stream)));
  const AVStream& st = *format->streams[stream];
  decoder.reset(avcodec_alloc_context3(codec));
  if (!decoder || !decoded || !rgb || !packet) throw IoError(fmt::format("{}: out of memory for the decoder", path));
  if (avcodec_parameters_to_context(decoder.get(), st.codecpar) < 0 || avcodec_open2(decoder.get(), codec, nullptr) < 0) {
    throw IoError(fmt::format("{}: cannot open the {} decoder", path, codec->name));
  }
  time_base = st.time_base;
  describe_stream();
}

void VideoReader::State::describe_stream() {
  const AVStream& st = *format->streams[stream];
  info.width = st.codecpar->width;
  info.height = st.codecpar->height;
  if (info.width <= 0 || info.height <= 0) throw IoError(fmt::format("{}: the video stream declares no frame size", path));
  if (std::int64_t(info.width) * info.height > data::kMaxImagePixels) {
    throw IoError(fmt::format("{}: frames of {}x{} are larger than images may be", path, info.width, info.height));
  }
  info.frame_rate = frame_rate_of(st, info.frame_rate_guessed);
  info.codec = decoder->codec->name;
  // For the progress bar, a duration estimated from the bit rate will do.
  info.expected_frames =
      st.nb_frames > 0 ? st.nb_frames : std::llround(stated_duration(*format, st) * info.frame_rate.value());
}

// Where the file says its video ends, in seconds on the stream's clock: the
// stream's start plus its duration, else the container's end, else the
// frame count its header states at the frame rate; nothing when unknown. A
// duration FFmpeg estimated from the bit rate and the file size is no
// statement (it shrinks with a truncated file), and no length counts for a
// stream of unknown rate.
std::optional<double> VideoReader::State::declared_end() const {
  const AVStream& st = *format->streams[stream];
  if (info.frame_rate_guessed) return std::nullopt;
  const double tick = av_q2d(st.time_base);
  if (format->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE) {
    if (st.duration != AV_NOPTS_VALUE && st.duration > 0) return stream_start() + double(st.duration) * tick;
    if (format->duration != AV_NOPTS_VALUE && format->duration > 0) {
      const double start = format->start_time != AV_NOPTS_VALUE ? double(format->start_time) / AV_TIME_BASE : stream_start();
      return start + double(format->duration) / AV_TIME_BASE;
    }
  }
  if (st.nb_frames > 0) return stream_start() + double(st.nb_frames) / info.frame_rate.value();
  return std::nullopt;
}

// The stream's first timestamp in seconds (that of its first frame when the
// container does not state it).
double VideoReader::State::stream_start() const {
  const AVStream& st = *format->streams[stream];
  if (st.start_time != AV_NOPTS_VALUE) return double(st.start_time) * av_q2d(time_base);
  return first_timestamp != AV_NOPTS_VALUE ? double(first_timestamp) * av_q2d(time_base) : 0.0;
}

// A truncated file often ends like a whole one: the demuxers stop at the
// last complete packet and report the end of the file (FFmpeg only logs
// "partial file" or "File ended prematurely"). Its header still states the
// length, so frames that stop well short of it mean the rest is missing.
// The slack (3 frames, at least 0.25 s) covers rounding and an audio stream
// outlasting the video when only the container's duration is known.
void VideoReader::State::check_complete() {
  const std::optional<double> declared = declared_end();
  if (!declared) return;
  const double frame_seconds = 1.0 / info.frame_rate.value();
  const double first = first_timestamp != AV_NOPTS_VALUE ? double(first_timestamp) * av_q2d(time_base) : stream_start();
  const double reached = last_seconds < 0 ? stream_start() : first + last_seconds + frame_seconds;
  if (*declared - reached > std::max(0.25, 3 * frame_seconds)) {
    const double start = stream_start();
    container_error = fmt::format("the frames end at {:.2f} s of the {:.2f} s the file declares: it is truncated",
                                  reached - start, *declared - start);
  }
}

// Reads packets until one of the video stream has gone to the decoder, or
// starts draining at the end of the file or at a damaged container.
void VideoReader::State::feed_decoder() {
  while (true) {
    const int read = av_read_frame(format.get(), packet.get());
    if (read == AVERROR_EOF) {
      start_draining();
      return;
    }
    if (read < 0) {
      container_error = fmt::format("the container is damaged after frame {}: {}", next_index, ffmpeg::error_text(read));
      start_draining();
      return;
    }
    if (packet->stream_index != stream) {
      av_packet_unref(packet.get());
      continue;
    }
    const int sent = avcodec_send_packet(decoder.get(), packet.get());
    av_packet_unref(packet.get());
    if (sent < 0 && sent != AVERROR(EAGAIN)) {
      if (rejected_packets++ == 0) {
        first_rejection = fmt::format("after frame {}: {}", next_index, ffmpeg::error_text(sent));
      }
    }
    return;
  }
}

void VideoReader::State::start_draining() {
  draining = true;
  avcodec_send_packet(decoder.get(), nullptr);
}

VideoFrame VideoReader::State::take_frame() {
  VideoFrame frame;
  frame.index = next_index++;
  const std::int64_t ts = decoded->best_effort_timestamp;
  if (ts != AV_NOPTS_VALUE && first_timestamp == AV_NOPTS_VALUE) first_timestamp = ts;
  frame.seconds = ts != AV_NOPTS_VALUE ? double(ts - first_timestamp) * av_q2d(time_base)
                                       : double(frame.index) / info.frame_rate.value();
  last_seconds = frame.seconds;
  if (decoded->decode_error_flags != 0 || (decoded->flags & AV_FRAME_FLAG_CORRUPT)) ++damaged_frames;
  frame.image = data::Image(info.width, info.height);
  convert_to_rgb(frame.image);
  av_frame_unref(decoded.get());
  return frame;
}

// Any pixel format and size the decoder produces -> RGB at the stream's
// declared size. The source's colour matrix and range are honoured (BT.709
// for HD material, full range for JPEG-style streams).
void VideoReader::State::convert_to_rgb(data::Image& image) {
  const AVFrame& src = *decoded;
  scaler.reset(sws_getCachedContext(scaler.release(), src.width, src.height, AVPixelFormat(src.format), info.width,
                                    info.height, AV_PIX_FMT_RGB24, SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!scaler) {
    const char* name = av_get_pix_fmt_name(AVPixelFormat(src.format));
    throw IoError(fmt::format("{}: cannot convert frames of pixel format {} to RGB", path, name ? name : "unknown"));
  }
  const int matrix = src.colorspace == AVCOL_SPC_BT709 ? SWS_CS_ITU709 : SWS_CS_DEFAULT;
  sws_setColorspaceDetails(scaler.get(), sws_getCoefficients(matrix), src.color_range == AVCOL_RANGE_JPEG,
                           sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
  if (!rgb->data[0]) {
    rgb->format = AV_PIX_FMT_RGB24;
    rgb->width = info.width;
    rgb->height = info.height;
    if (av_frame_get_buffer(rgb.get(), 0) < 0) throw IoError(fmt::format("{}: out of memory for a frame", path));
  }
  sws_scale(scaler.get(), src.data, src.linesize, 0, src.height, rgb->data, rgb->linesize);
  for (int y = 0; y < info.height; ++y) {
    const std::uint8_t* row = rgb->data[0] + std::ptrdiff_t(y) * rgb->linesize[0];
    std::copy(row, row + std::ptrdiff_t(info.width) * 3, image.at(0, y));
  }
}

VideoReader::VideoReader(const std::string& path) : state_(std::make_unique<State>()) {
  state_->path = path;
  state_->open();
}

VideoReader::~VideoReader() = default;

const VideoInfo& VideoReader::info() const { return state_->info; }

std::optional<VideoFrame> VideoReader::next() {
  State& s = *state_;
  while (!s.ended) {
    const int got = avcodec_receive_frame(s.decoder.get(), s.decoded.get());
    if (got == 0) return s.take_frame();
    if (got == AVERROR(EAGAIN) && !s.draining) {
      s.feed_decoder();
      continue;
    }
    if (got != AVERROR_EOF && s.container_error.empty()) {
      s.container_error = fmt::format("decoding stopped after frame {}: {}", s.next_index, ffmpeg::error_text(got));
    }
    if (s.container_error.empty()) s.check_complete();
    s.ended = true;
  }
  return std::nullopt;
}

std::string VideoReader::failure() const {
  const State& s = *state_;
  std::string why = s.container_error;
  if (s.rejected_packets > 0) {
    if (!why.empty()) why += "; ";
    why += fmt::format("the decoder rejected {} packet(s), the first {}", s.rejected_packets, s.first_rejection);
  }
  if (s.damaged_frames > 0) {
    if (!why.empty()) why += "; ";
    why += fmt::format("{} frame(s) were damaged (the decoder concealed missing data)", s.damaged_frames);
  }
  return why.empty() ? why : fmt::format("{}: {}", s.path, why);
}

}  // namespace yolo

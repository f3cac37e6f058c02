// Writes the starting corpus of every fuzz target into OUT/<target>/: small
// valid files made with the project's own writers (so they stay in step with
// the formats), plus a few near misses. scripts/fuzz.sh runs it and adds the
// project's configs/ and Debian's Darknet cfg files.
//
//   fuzz_make_seeds OUT
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "core/npy.h"
#include "data/image.h"
#include "models/cfg_reader.h"
#include "models/checkpoint.h"
#include "models/model_file.h"

namespace fs = std::filesystem;

namespace {

fs::path out_root;

void put(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(out_root / target);
  std::ofstream(out_root / target / name, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const char* kTinyCfg = R"([net]
width=64
height=64
channels=3

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky

[maxpool]
size=2
stride=2

[convolutional]
filters=8
size=1
stride=1
pad=1
activation=linear

[shortcut]
from=-2
activation=linear

[route]
layers = -1, 0

[upsample]
stride=2

[convolutional]
filters=21
size=1
activation=linear

[yolo]
mask = 0,1,2
anchors = 10,14,  23,27,  37,58
classes=2
num=3
ignore_thresh = .7
)";

// The network of fuzz_weights.cpp.
const char* kWeightsCfg = R"([net]
width=32
height=32
channels=3

[convolutional]
batch_normalize=1
filters=4
size=3
stride=1
pad=1
activation=leaky

[convolutional]
filters=8
size=1
stride=1
activation=linear
)";

void cfg_and_weights_and_checkpoint() {
  put("cfg", "tiny.cfg", kTinyCfg);
  put("cfg", "crlf.cfg", "[net]\r\nwidth=32\r\nheight=32\r\nchannels=3\r\n\r\n[conv]\r\nfilters=2\r\nsize=1\r\n");

  const models::NetworkDef def = models::cfg_to_network_def(models::parse_cfg_text(kWeightsCfg, "w.cfg"));
  const models::Model model = models::make_model(def, {}, models::ModelMeta{.class_names = {"a", "b"}});
  const std::string weights = models::serialize_darknet_weights(model.network->darknet_conv_tensors(), 1234);
  put("weights", "full.weights", weights);
  put("weights", "first_layer.weights", weights.substr(0, 20 + 4 * (4 + 3 * 4 + 4 * 3 * 9)));
  std::string old = weights;  // minor 1: a 32-bit `seen`
  old[4] = 1;
  old.erase(16, 4);
  put("weights", "old_header.weights", old);

  const fs::path ckpt = out_root / "checkpoint" / "small.ckpt";
  fs::create_directories(ckpt.parent_path());
  models::save_model_checkpoint(ckpt.string(), model, {}, R"({"step": 3})");
  const models::Checkpoint bare{.metadata = "{}", .tensors = {{"x", core::Tensor::zeros({2, 3}, core::DType::f32)}}};
  put("checkpoint", "bare.ckpt", models::serialize_checkpoint(bare));
}

void npy() {
  core::Tensor f = core::Tensor::zeros({2, 3}, core::DType::f32);
  for (int i = 0; i < 6; ++i) f.mutable_data<float>()[i] = float(i) / 4;
  put("npy", "f32.npy", core::serialize_npy(f));
  put("npy", "f64.npy", core::serialize_npy(core::Tensor::zeros({4}, core::DType::f64)));
  put("npy", "i32.npy", core::serialize_npy(core::Tensor::zeros({1, 2, 1}, core::DType::i32)));
  put("npy", "scalar.npy", core::serialize_npy(core::Tensor::zeros({}, core::DType::f32)));
  // int64 (narrowed on read) and Fortran order (rejected), by editing the header.
  std::string i64 = core::serialize_npy(core::Tensor::zeros({3}, core::DType::i32));
  i64.replace(i64.find("<i4"), 3, "<i8");
  i64 += std::string(12, '\0');
  put("npy", "i64.npy", i64);
  std::string fortran = core::serialize_npy(f);
  fortran.replace(fortran.find("False"), 5, "True ");
  put("npy", "fortran.npy", fortran);
}

void images() {
  data::Image im(5, 3);
  for (std::size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = float((i * 37) % 256);
  put("image", "small.png", data::encode_png(im));
  put("image", "small.jpg", data::encode_jpeg(im, 80));
  put("image", "small.ppm", "P6\n2 2\n255\n" + std::string(12, '\x7f'));
  put("image", "small.pgm", "P5\n3 1\n255\n\x01\x02\x03");
}

void annotations() {
  put("voc_xml", "000005.xml", R"(<annotation>
  <folder>VOC2007</folder>
  <filename>000005.jpg</filename>
  <size><width>500</width><height>375</height><depth>3</depth></size>
  <object>
    <name>chair</name><pose>Rear</pose><truncated>0</truncated><difficult>0</difficult>
    <bndbox><xmin>263</xmin><ymin>211</ymin><xmax>324</xmax><ymax>339</ymax></bndbox>
  </object>
  <object>
    <name>dog</name><difficult>1</difficult>
    <bndbox><xmin>5.5</xmin><ymin>1</ymin><xmax>499</xmax><ymax>375</ymax></bndbox>
  </object>
</annotation>
)");
  put("voc_xml", "no_filename.xml",
      "<annotation><size><width>10</width><height>10</height></size><object><name>cat</name>"
      "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>");

  put("coco_instances", "small.json", R"({
  "info": {"description": "fuzz seed"},
  "images": [{"id": 42, "file_name": "000042.jpg", "width": 640, "height": 480},
             {"id": 7, "file_name": "000007.jpg", "width": 320, "height": 240}],
  "annotations": [
    {"id": 1, "image_id": 42, "category_id": 3, "bbox": [10.5, 20, 100, 50], "area": 4000.0, "iscrowd": 0},
    {"id": 2, "image_id": 42, "category_id": 1, "bbox": [0, 0, 640, 480], "area": 1.5, "iscrowd": 1,
     "segmentation": {"counts": [1, 2], "size": [480, 640]}},
    {"id": 3, "image_id": 7, "category_id": 3, "bbox": [1, 1, 2, 2]}
  ],
  "categories": [{"id": 1, "name": "person", "supercategory": "person"}, {"id": 3, "name": "car"}]
})");

  put("coco_results", "coco.json",
      R"([{"image_id": 42, "category_id": 1, "bbox": [1.5, 2, 30, 40.25], "score": 0.9},
  {"image_id": 139, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0.01},
  {"image_id": 1, "category_id": 91, "bbox": [5, 5, 5, 5], "score": 1e-3}])");
  put("coco_results", "voc.json",
      R"([{"image_id": "000005", "category": "dog", "bbox": [10, 20, 30, 40], "score": 0.5},
  {"image_id": "000007", "category_id": 2, "bbox": [0, 0, 3, 3], "score": 0.25},
  {"image_id": "000009", "category": "bird", "bbox": [1, 1, 1, 1], "score": 0.1}])");
  put("coco_results", "empty.json", "[]");

  put("darknet_labels", "two.txt", "0 0.5 0.5 0.2 0.3\n19 0.1 0.15 0.05 0.1\n");
  put("darknet_labels", "crlf.txt", "3 0.25 0.75 0.5 0.5\r\n\r\n");
}

void configs() {
  put("config_yaml", "overrides.yml", R"(_BASE_: [_base_/reader_shapes.yml]
model:
  width: 0.25
train.max_steps: 10
#overrides
train.batch_size=2
model.anchors=[[10,13],[16,30],[33,23]]
data.augment={flip: {prob: 0.3}}
pretrain_weights=
)");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_seeds OUT\n";
    return 2;
  }
  out_root = argv[1];
  try {
    cfg_and_weights_and_checkpoint();
    npy();
    images();
    annotations();
    configs();
  } catch (const std::exception& e) {
    std::cerr << "fuzz_make_seeds: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

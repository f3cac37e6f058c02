// Training configs: _BASE_ inheritance (order, deep merge, relative paths,
// cycles), -o overrides, dump/load round trip, error messages that name file,
// line and key, validation, every file in configs/ and docs/config_keys.md.
#include "train/config_loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "core/error.h"
#include "train/config_augment.h"

#ifndef YOLO_SOURCE_DIR
#error "YOLO_SOURCE_DIR must name the repository root (tests/CMakeLists.txt sets it)"
#endif

namespace train {
namespace {

namespace fs = std::filesystem;

// Passes when `text` contains `part`; prints the whole text otherwise.
#define EXPECT_CONTAINS(text, part)                                                        \
  do {                                                                                    \
    const std::string text_ = (text), part_ = (part);                                     \
    EXPECT_NE(text_.find(part_), std::string::npos) << "missing: " << part_ << "\nin: " << text_; \
  } while (0)

const std::string kData = "data:\n  train: voc:x:train\n  val: voc:x:val\n";

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("config_test_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& rel, const std::string& text) const {
    const fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string path(const std::string& rel) const { return (dir_ / rel).string(); }

  // The ConfigError message of loading `file` (fails the test when it loads).
  static std::string error_of(const std::string& file, const std::vector<std::string>& overrides = {}) {
    try {
      load_config(file, overrides);
    } catch (const core::ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << file << " loaded without error";
    return "";
  }

  fs::path dir_;
};

// --- _BASE_ ---------------------------------------------------------------

TEST_F(ConfigTest, BasesMergeInOrderThenTheFileOnTop) {
  write("a.yml", "model:\n  width: 0.5\n  input_size: 320\noptimizer:\n  lr: 0.01\n  type: adamw\n");
  write("b.yml", "model:\n  width: 0.25\neval:\n  metric: coco\n");
  const std::string top = write("top.yml", "_BASE_: [a.yml, b.yml]\n" + kData + "optimizer:\n  lr: 0.02\n");
  const TrainConfig c = load_config(top);
  EXPECT_EQ(c.model.width, 0.25);         // b (later base) beats a
  EXPECT_EQ(c.model.input_size, 320);     // deep merge: b's model map keeps a's other keys
  EXPECT_EQ(c.optimizer.lr, 0.02);        // the file beats its bases
  EXPECT_EQ(c.optimizer.type, "adamw");   // ...and keeps their other keys
  EXPECT_EQ(c.eval.metric, "coco");
  EXPECT_EQ(c.train.epochs, TrainConfig{}.train.epochs);  // untouched keys keep the default

  // Reversed order: a wins.
  const std::string rev = write("rev.yml", "_BASE_: [b.yml, a.yml]\n" + kData);
  EXPECT_EQ(load_config(rev).model.width, 0.5);
}

TEST_F(ConfigTest, DeepMergeOfNestedSectionsAndDottedKeys) {
  write("base.yml",
        "data:\n  augment:\n    crop:\n      attempts: 7\n      min_scale: 0.4\n    flip:\n      prob: 0.1\n");
  const std::string top = write("top.yml", "_BASE_: base.yml\n" + kData +
                                               "data.augment.crop.attempts: 9\n"
                                               "data:\n  augment:\n    flip: {enabled: false}\n");
  const TrainConfig c = load_config(top);
  EXPECT_EQ(c.data.augment.crop.attempts, 9);
  EXPECT_FLOAT_EQ(c.data.augment.crop.min_scale, 0.4f);
  EXPECT_FLOAT_EQ(c.data.augment.flip.prob, 0.1f);
  EXPECT_FALSE(c.data.augment.flip.enabled);
  EXPECT_EQ(c.data.train, "voc:x:train");
}

TEST_F(ConfigTest, BasePathsAreRelativeToTheIncludingFile) {
  write("common/deeper/leaf.yml", "train:\n  batch_size: 3\n");
  write("common/base.yml", "_BASE_: deeper/leaf.yml\ntrain:\n  subdivisions: 5\n");
  const std::string top = write("configs/x/top.yml", "_BASE_: ../../common/base.yml\n" + kData);
  const TrainConfig c = load_config(top);
  EXPECT_EQ(c.train.batch_size, 3);
  EXPECT_EQ(c.train.subdivisions, 5);
}

TEST_F(ConfigTest, SameBaseReachedTwiceIsNotACycle) {
  write("shared.yml", "train:\n  seed: 4\n");
  write("left.yml", "_BASE_: shared.yml\ntrain:\n  threads: 1\n");
  write("right.yml", "_BASE_: shared.yml\ntrain:\n  batch_size: 2\n");
  const std::string top = write("top.yml", "_BASE_: [left.yml, right.yml]\n" + kData);
  const TrainConfig c = load_config(top);
  EXPECT_EQ(c.train.seed, 4u);
  EXPECT_EQ(c.train.threads, 1);
  EXPECT_EQ(c.train.batch_size, 2);
}

TEST_F(ConfigTest, CircularBaseNamesTheChain) {
  write("a.yml", "_BASE_: b.yml\n");
  write("b.yml", "_BASE_: [c.yml]\n");
  write("c.yml", "_BASE_: a.yml\n");
  const std::string msg = error_of(path("a.yml"));
  EXPECT_CONTAINS(msg, "circular _BASE_");
  EXPECT_CONTAINS(msg, "a.yml -> " + path("b.yml") + " -> " + path("c.yml") + " -> " + path("a.yml"));
  EXPECT_CONTAINS(msg, path("c.yml") + ":1:9: circular");  // where the cycle closes

  write("self.yml", "_BASE_: ./self.yml\n");
  EXPECT_CONTAINS(error_of(path("self.yml")), "circular _BASE_");
}

TEST_F(ConfigTest, MissingFiles) {
  EXPECT_CONTAINS(error_of(path("nowhere.yml")), "cannot open config file '" + path("nowhere.yml") + "'");
  const std::string top = write("top.yml", kData + "_BASE_:\n  - gone.yml\n");
  const std::string msg = error_of(top);
  EXPECT_CONTAINS(msg, top + ":5:5: _BASE_: cannot open config file '" + path("gone.yml") + "'");
  write("bad_base.yml", "_BASE_: {a: 1}\n");
  EXPECT_CONTAINS(error_of(path("bad_base.yml")), "_BASE_: expected a file name or a list of file names");
}

// --- overrides -------------------------------------------------------------

TEST_F(ConfigTest, OverridesOfScalarsListsAndNestedKeys) {
  const std::string top = write("top.yml", kData + "train:\n  max_steps: 10\nschedule:\n  milestones: [1, 2]\n");
  const TrainConfig c = load_config(top, {"train.max_steps=100", "schedule.milestones=[5, 7, 9]",
                                          "model.masks=[[2], [1], [0]]", "model.anchors=[[1,2],[3,4],[5,6]]",
                                          "data.augment.flip.prob=0.25", "data.augment.crop={enabled: false, attempts: 3}",
                                          "data.val=voc:/abs/dir:test", "pretrain_weights=", "input.mean=[0.1, 0.2, 0.3]",
                                          "train.freeze=[backbone., neck.]", "eval.metric = coco",
                                          "train.max_steps=200"});
  EXPECT_EQ(c.train.max_steps, 200);  // the last override wins
  EXPECT_EQ(c.schedule.milestones, (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(c.model.masks, (std::vector<std::vector<int>>{{2}, {1}, {0}}));
  EXPECT_EQ(c.model.anchors, (std::vector<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_FLOAT_EQ(c.data.augment.flip.prob, 0.25f);
  EXPECT_FALSE(c.data.augment.crop.enabled);
  EXPECT_EQ(c.data.augment.crop.attempts, 3);
  EXPECT_EQ(c.data.val, "voc:/abs/dir:test");
  EXPECT_EQ(c.pretrain_weights, "");
  EXPECT_FLOAT_EQ(c.input.mean[2], 0.3f);
  EXPECT_EQ(c.train.freeze, (std::vector<std::string>{"backbone.", "neck."}));
  EXPECT_EQ(c.eval.metric, "coco");
}

TEST_F(ConfigTest, FlatAnchorListIsAccepted) {
  const TrainConfig c = load_config(write("top.yml", kData + "model:\n  anchors: [1, 2, 3, 4, 5, 6]\n  masks: [[0], [1], [2]]\n"));
  EXPECT_EQ(c.model.anchors, (std::vector<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(config_value(c, "model.anchors"), "[[1, 2], [3, 4], [5, 6]]");
}

TEST_F(ConfigTest, BadOverrides) {
  const std::string top = write("top.yml", kData);
  EXPECT_CONTAINS(error_of(top, {"train.max_steps"}), "bad override '-o train.max_steps': expected KEY=VALUE");
  EXPECT_CONTAINS(error_of(top, {"=3"}), "bad override '-o =3': '' is not a dotted key name");
  EXPECT_CONTAINS(error_of(top, {"train..seed=3"}), "'train..seed' is not a dotted key name");
  EXPECT_CONTAINS(error_of(top, {"model.anchors=[1, 2"}), "bad override '-o model.anchors=[1, 2': the value is not valid YAML");
  EXPECT_CONTAINS(error_of(top, {"_BASE_=x.yml"}), "_BASE_ cannot be overridden");
  EXPECT_CONTAINS(error_of(top, {"model.widht=0.5"}), "-o model.widht=0.5: unknown key 'model.widht' (did you mean 'model.width'?)");
  EXPECT_CONTAINS(error_of(top, {"train.max_steps=lots"}), "-o train.max_steps=lots: train.max_steps: expected an integer, got 'lots'");
  EXPECT_CONTAINS(error_of(top, {"model=3"}), "-o model=3: 'model' is a section");
  EXPECT_CONTAINS(error_of(top, {"model.input_size=300"}), "-o model.input_size=300: model.input_size: must be a positive multiple of 32, got 300");
}

// --- dump ------------------------------------------------------------------

TEST_F(ConfigTest, DumpLoadRoundTripIsExact) {
  const std::string top = write("top.yml", kData);
  const TrainConfig original = load_config(
      top, {"model.width=0.3", "optimizer.lr=0.1", "model.anchors=[[7,9],[11,13],[20,30]]", "model.masks=[[2],[1],[0]]",
            "data.augment.expand.fill=[1.5, 2.25, 3.125]", "data.augment.crop.min_ious=[0.2, 0.7]",
            "schedule.steps=[10, 20, 30]", "schedule.scales=[0.5, 0.25, 0.125]", "train.freeze=[backbone.]",
            "data.cache_dir=", "model.cfg='null'", "train.seed=18446744073709551615", "optimizer.eps=1e-12",
            "input.resize=stretch", "data.train=coco:a b/c.json:img dir", "schedule.min_factor=0.1"});
  const std::string dumped = dump_config(original);
  const std::string file = write("dumped.yml", dumped);
  const TrainConfig reloaded = load_config(file);
  EXPECT_EQ(dump_config(reloaded), dumped);
  for (const ConfigKeyInfo& k : config_keys())
    EXPECT_EQ(config_value(reloaded, k.name), config_value(original, k.name)) << k.name;
  EXPECT_EQ(reloaded.optimizer.lr, 0.1);
  EXPECT_EQ(reloaded.model.width, 0.3);
  EXPECT_EQ(reloaded.schedule.min_factor, 0.1);
  EXPECT_EQ(reloaded.model.cfg, "null");
  EXPECT_EQ(reloaded.data.cache_dir, "");
  EXPECT_EQ(reloaded.train.seed, 18446744073709551615ull);
  EXPECT_EQ(reloaded.data.train, "coco:a b/c.json:img dir");
  EXPECT_FLOAT_EQ(reloaded.data.augment.expand.fill[2], 3.125f);
  EXPECT_FALSE(reloaded.data.augment.resize.letterbox);  // derived from input.resize

  // The defaults too, and from text.
  const std::string defaults = dump_config(TrainConfig{});
  const TrainConfig d = load_config_text(defaults, "defaults.yml", {}, LoadOptions{false, true});
  EXPECT_EQ(dump_config(d), defaults);
}

TEST_F(ConfigTest, DumpNestsEveryKeyUnderItsSections) {
  const std::string dumped = dump_config(TrainConfig{});
  EXPECT_CONTAINS(dumped, "model:\n  cfg: \"\"\n  width: 1.0\n  input_size: 416\n");
  EXPECT_CONTAINS(dumped, "\n    crop:\n      enabled: true\n      min_ious: [0.0, 0.1, 0.3, 0.5, 0.7, 0.9]\n");
  EXPECT_CONTAINS(dumped, "  anchors: [[10, 13], [16, 30], [33, 23], [30, 61], [62, 45], [59, 119], [116, 90], [156, 198], [373, 326]]\n");
  EXPECT_CONTAINS(dumped, "\npretrain_weights: \"\"\n");
  // Every key appears, as its last component.
  for (const ConfigKeyInfo& k : config_keys()) {
    const std::string last = k.name.substr(k.name.rfind('.') + 1);
    EXPECT_NE(dumped.find(last + ": "), std::string::npos) << k.name;
  }
}

// --- errors name file, line and key --------------------------------------------

TEST_F(ConfigTest, UnknownKeys) {
  const std::string top = write("top.yml", kData + "model:\n  widht: 0.5\n  input_size: 320\noptimiser:\n  lr: 1\n"
                                                   "train:\n  lr: 0.1\n");
  const std::string msg = error_of(top);
  EXPECT_CONTAINS(msg, top + ":5:3: unknown key 'model.widht' (did you mean 'model.width'?)");
  EXPECT_CONTAINS(msg, top + ":7:1: unknown key 'optimiser' (did you mean 'optimizer'?)");
  EXPECT_CONTAINS(msg, top + ":10:3: unknown key 'train.lr' (did you mean 'optimizer.lr'?)");
  // A nested _BASE_ is just an unknown key.
  EXPECT_CONTAINS(error_of(write("nested.yml", kData + "model:\n  _BASE_: x.yml\n")), "unknown key 'model._BASE_'");
}

TEST_F(ConfigTest, WrongTypes) {
  const std::string top = write("top.yml", kData +
                                               "model:\n"
                                               "  width: wide\n"              // line 5
                                               "  input_size: \"320\"\n"      // 6: quoted
                                               "  masks: [[0, 1], [2, x]]\n"  // 7: element
                                               "train:\n"
                                               "  epochs: 2.5\n"              // 9
                                               "  seed: -1\n"                 // 10
                                               "  ema: yes\n"                 // 11
                                               "  freeze: backbone\n"         // 12
                                               "input:\n"
                                               "  mean: [0.5, 0.5]\n"         // 14
                                               "  resize: [letterbox]\n"      // 15
                                               "eval:\n"
                                               "  max_dets: 99999999999\n"    // 17
                                               "data:\n"
                                               "  augment: 3\n");             // 19
  const std::string msg = error_of(top);
  EXPECT_CONTAINS(msg, top + ":5:10: model.width: expected a number, got 'wide'");
  EXPECT_CONTAINS(msg, top + ":6:15: model.input_size: expected an integer, got '320'");
  EXPECT_CONTAINS(msg, top + ":7:23: model.masks: expected an integer, got 'x'");
  EXPECT_CONTAINS(msg, top + ":9:11: train.epochs: expected an integer, got '2.5'");
  EXPECT_CONTAINS(msg, top + ":10:9: train.seed: expected an integer >= 0, got '-1'");
  EXPECT_CONTAINS(msg, top + ":11:8: train.ema: expected true or false, got 'yes'");
  EXPECT_CONTAINS(msg, top + ":12:11: train.freeze: expected a list of strings, got 'backbone'");
  EXPECT_CONTAINS(msg, top + ":14:9: input.mean: expected a list of 3 numbers, got a list");
  EXPECT_CONTAINS(msg, top + ":15:11: input.resize: expected a string, got a list");
  EXPECT_CONTAINS(msg, top + ":17:13: eval.max_dets: 99999999999 is out of range (expected an integer)");
  EXPECT_CONTAINS(msg, top + ":19:3: 'data.augment' is a section (mosaic, mixup, distort, expand, crop, flip, ...)");
}

TEST_F(ConfigTest, WrongTypeInABaseNamesTheBase) {
  const std::string base = write("sub/base.yml", "optimizer:\n  lr: fast\n");
  const std::string top = write("top.yml", "_BASE_: sub/base.yml\n" + kData + "optimizer:\n  lr: 0.1\n");
  EXPECT_CONTAINS(error_of(top), base + ":2:7: optimizer.lr: expected a number, got 'fast'");
}

TEST_F(ConfigTest, MissingAndEmptyRequiredValues) {
  const std::string top = write("top.yml", "data:\n  val: voc:x\n");
  const std::string msg = error_of(top);
  EXPECT_CONTAINS(msg, top + ": missing required key 'data.train'");
  EXPECT_EQ(msg.find("data.val"), std::string::npos) << msg;
  const std::string empty = write("empty.yml", "data:\n  train:\n  val: \"\"\n");
  const std::string msg2 = error_of(empty);
  EXPECT_CONTAINS(msg2, empty + ":2:3: required key 'data.train' is empty");
  EXPECT_CONTAINS(msg2, empty + ":3:8: required key 'data.val' is empty");
  // A base piece on its own loads with check_required off.
  EXPECT_NO_THROW(load_config(top, {}, LoadOptions{false, true}));
  // An override fills it.
  EXPECT_EQ(load_config(top, {"data.train=voc:y"}).data.train, "voc:y");
}

TEST_F(ConfigTest, SyntaxErrorsAndDuplicates) {
  const std::string bad = write("bad.yml", kData + "model:\n  width: [0.5\n");
  EXPECT_CONTAINS(error_of(bad), bad + ":");
  EXPECT_CONTAINS(error_of(bad), "YAML syntax error");
  const std::string dup = write("dup.yml", kData + "model:\n  width: 0.5\nmodel.width: 0.25\n");
  EXPECT_CONTAINS(error_of(dup), dup + ":6:1: duplicate key 'model.width' (first set at line 5)");
  const std::string list = write("list.yml", "- a\n- b\n");
  EXPECT_CONTAINS(error_of(list), list + ":1:1: a config must be a map of keys, got a list");
  EXPECT_NO_THROW(load_config(write("empty.yml", ""), {}, LoadOptions{false, true}));
}

TEST_F(ConfigTest, ValidationNamesKeyAndWhereItWasSet) {
  const std::string top = write("top.yml", kData +
                                               "model:\n"
                                               "  input_size: 300\n"                // 5
                                               "  masks: [[0, 1, 2], [3], [9]]\n"   // 6
                                               "input:\n"
                                               "  resize: fit\n"                    // 8
                                               "optimizer:\n"
                                               "  type: adam\n"                     // 10
                                               "schedule:\n"
                                               "  type: step\n"                     // 12
                                               "  milestones: [10, 5]\n"            // 13
                                               "eval:\n"
                                               "  metric: map\n");                  // 15
  const std::string msg = error_of(top, {"train.batch_size=0", "precision=fp16"});
  EXPECT_CONTAINS(msg, "-o precision=fp16: precision: must be fp32 | bf16, got 'fp16'");
  EXPECT_CONTAINS(msg, top + ":5:15: model.input_size: must be a positive multiple of 32, got 300");
  EXPECT_CONTAINS(msg, top + ":6:10: model.masks: index 9 of mask 2 does not name one of the 9 anchors (0..8)");
  EXPECT_CONTAINS(msg, top + ":8:11: input.resize: must be letterbox | stretch, got 'fit'");
  EXPECT_CONTAINS(msg, top + ":10:9: optimizer.type: must be sgd | adamw, got 'adam'");
  EXPECT_CONTAINS(msg, top + ":12:9: schedule.type: must be piecewise | cosine | burn_in, got 'step'");
  EXPECT_CONTAINS(msg, top + ":13:15: schedule.milestones: entries must increase, got 5.0 after 10.0");
  EXPECT_CONTAINS(msg, top + ":15:11: eval.metric: must be voc | coco, got 'map'");
  EXPECT_CONTAINS(msg, "-o train.batch_size=0: train.batch_size: must be >= 1, got 0");

  // Problems of keys left at their default name the top file.
  const std::string odd = write("odd.yml", kData + "model:\n  anchors: [[10, 13], [16, 30]]\n");
  EXPECT_CONTAINS(error_of(odd), odd + ": model.masks (default [[6, 7, 8], [3, 4, 5], [0, 1, 2]]): index 6 of mask 0 "
                                       "does not name one of the 2 anchors (0..1)");
}

TEST_F(ConfigTest, ValidateConfigOnStructs) {
  TrainConfig c;
  EXPECT_TRUE(validate_config(c).empty());
  c.model.input_size = 100;
  c.schedule.scales = {0.1};
  c.data.train = "ftp:x";
  c.model.width = 0;
  const std::vector<std::string> problems = validate_config(c);
  const std::string all = [&] {
    std::string s;
    for (const std::string& p : problems) s += p + "\n";
    return s;
  }();
  EXPECT_CONTAINS(all, "model.input_size: must be a positive multiple of 32, got 100\n");
  EXPECT_CONTAINS(all, "schedule.scales: needs one entry per schedule.steps entry (2), got 1\n");
  EXPECT_CONTAINS(all, "data.train: ");
  EXPECT_CONTAINS(all, "model.width: must be > 0, got 0.0\n");
  EXPECT_EQ(problems.size(), 4u) << all;
}

TEST_F(ConfigTest, DerivedFieldsFollowTheirKeys) {
  const std::string top = write("top.yml", kData + "input:\n  resize: letterbox\n  mean_std: true\nmodel:\n  input_size: 320\n");
  TrainConfig c = load_config(top);
  EXPECT_TRUE(c.data.augment.resize.letterbox);
  EXPECT_TRUE(c.data.augment.normalize.mean_std);
  EXPECT_FLOAT_EQ(c.data.augment.normalize.std[1], 0.224f);
  EXPECT_EQ(c.data.augment.multiscale.size, 320);
  c = load_config(top, {"input.resize=stretch"});
  EXPECT_FALSE(c.data.augment.resize.letterbox);
}

TEST(ConfigAugment, InputKeysDriveTheAugmentation) {
  TrainConfig c;  // built by hand, not loaded: the mapping must not rely on load_config()
  c.input.resize = "stretch";
  c.input.mean_std = true;
  c.input.mean = {0.5f, 0.25f, 0.125f};
  c.input.std = {0.1f, 0.2f, 0.3f};
  c.model.input_size = 320;
  c.data.augment.flip.prob = 0.25f;
  const data::AugmentConfig a = augment_config_for(c);
  EXPECT_FALSE(a.resize.letterbox);
  EXPECT_TRUE(a.normalize.mean_std);
  EXPECT_FLOAT_EQ(a.normalize.mean[2], 0.125f);
  EXPECT_FLOAT_EQ(a.normalize.std[1], 0.2f);
  EXPECT_EQ(a.multiscale.size, 320);
  EXPECT_FLOAT_EQ(a.flip.prob, 0.25f);  // the data.augment keys pass through
  c.input.resize = "letterbox";
  EXPECT_TRUE(augment_config_for(c).resize.letterbox);
}

// --- the key table, configs/ and docs/ -----------------------------------------

TEST(ConfigKeys, TableIsCompleteAndDescribed) {
  const TrainConfig defaults;
  std::set<std::string> names;
  for (const ConfigKeyInfo& k : config_keys()) {
    EXPECT_TRUE(names.insert(k.name).second) << "duplicate key " << k.name;
    EXPECT_FALSE(k.description.empty()) << k.name;
    EXPECT_EQ(k.description.find('\n'), std::string::npos) << k.name;
    EXPECT_FALSE(k.type.empty()) << k.name;
    EXPECT_EQ(k.default_value, config_value(defaults, k.name)) << k.name;
  }
  for (const char* contract :
       {"train.max_steps", "train.epochs", "train.batch_size", "train.subdivisions", "train.seed", "train.threads",
        "data.workers", "eval.interval", "eval.score_thresh", "eval.nms_iou", "eval.max_dets", "pretrain_weights",
        "input.resize", "input.mean_std", "model.width", "model.anchors", "model.masks", "model.ignore_thresh",
        "data.augment.multiscale.min_size", "data.augment.mixup.alpha", "optimizer.type", "schedule.type"})
    EXPECT_TRUE(names.count(contract)) << contract;
  EXPECT_EQ(config_value(defaults, "train.max_steps"), "0");
  EXPECT_EQ(config_value(defaults, "optimizer.lr"), "0.001");
  EXPECT_EQ(config_value(defaults, "input.resize"), "letterbox");
  EXPECT_THROW(config_value(defaults, "model.nope"), core::ConfigError);

  const std::string text = config_reference_text();
  EXPECT_CONTAINS(text, "_BASE_");
  for (const std::string& n : names) EXPECT_CONTAINS(text, "\n" + n + " ");
}

fs::path source_dir() { return fs::path(YOLO_SOURCE_DIR); }

TEST(ConfigFiles, EveryFileInConfigsLoads) {
  int top = 0, pieces = 0;
  for (const auto& entry : fs::recursive_directory_iterator(source_dir() / "configs")) {
    if (!entry.is_regular_file() || entry.path().extension() != ".yml") continue;
    const bool piece = entry.path().parent_path().filename() == "_base_";
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW({
      try {
        const TrainConfig c = load_config(entry.path().string(), {}, LoadOptions{!piece, true});
        // What it loads, it dumps and reloads identically.
        EXPECT_EQ(dump_config(load_config_text(dump_config(c), "dump", {}, LoadOptions{!piece, true})), dump_config(c));
      } catch (const core::ConfigError& e) {
        ADD_FAILURE() << e.what();
      }
    });
    ++(piece ? pieces : top);
  }
  EXPECT_GE(top, 4);
  EXPECT_GE(pieces, 6);
}

TEST(ConfigFiles, EveryKeyIsCommented) {
  // A line that sets a value must carry a comment, or follow a comment line.
  const std::regex sets_value(R"(^\s*(-\s+)?[A-Za-z_][A-Za-z0-9_.]*:\s*[^\s#].*$)");
  for (const auto& entry : fs::recursive_directory_iterator(source_dir() / "configs")) {
    if (!entry.is_regular_file() || entry.path().extension() != ".yml") continue;
    std::ifstream in(entry.path());
    std::string line, previous;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      const std::string code = line.substr(0, line.find(" #"));
      if (std::regex_match(code, sets_value) && line.find('#') == std::string::npos &&
          previous.find_first_not_of(' ') != std::string::npos && previous[previous.find_first_not_of(' ')] != '#')
        ADD_FAILURE() << entry.path().string() << ":" << number << ": key without a comment: " << line;
      if (!line.empty()) previous = line;
    }
  }
}

TEST(ConfigFiles, RecipesFollowPaddleDetection) {
  const fs::path configs = source_dir() / "configs";
  for (const char* name : {"yolov3_darknet53_voc.yml", "yolov3_darknet53_coco.yml"}) {
    SCOPED_TRACE(name);
    const TrainConfig c = load_config((configs / name).string());
    EXPECT_EQ(c.model.anchors, (std::vector<int>{10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326}));
    EXPECT_EQ(c.model.masks, (std::vector<std::vector<int>>{{6, 7, 8}, {3, 4, 5}, {0, 1, 2}}));
    EXPECT_EQ(c.model.ignore_thresh, 0.7);
    EXPECT_FALSE(c.model.use_label_smooth);
    EXPECT_TRUE(c.data.augment.mixup.enabled && c.data.augment.distort.enabled && c.data.augment.expand.enabled &&
                c.data.augment.crop.enabled && c.data.augment.flip.enabled && c.data.augment.multiscale.enabled);
    EXPECT_EQ(c.data.augment.multiscale.min_size, 320);
    EXPECT_EQ(c.data.augment.multiscale.max_size, 608);
    EXPECT_EQ(c.optimizer.type, "sgd");
    EXPECT_EQ(c.optimizer.momentum, 0.9);
    EXPECT_EQ(c.optimizer.weight_decay, 0.0005);
    EXPECT_EQ(c.optimizer.lr, 0.001);
    EXPECT_EQ(c.train.batch_size * c.train.subdivisions, 64);
    EXPECT_EQ(c.schedule.type, "piecewise");
    EXPECT_EQ(c.schedule.warmup_steps, 4000);
    EXPECT_EQ(c.schedule.milestones, (std::vector<double>{216, 243}));
    EXPECT_EQ(c.schedule.gamma, 0.1);
    EXPECT_EQ(c.train.epochs, 270);
    EXPECT_NE(c.pretrain_weights.find("darknet53.conv.74"), std::string::npos);
    EXPECT_FALSE(c.input.mean_std);  // darknet53.conv.74 expects [0,1]
  }
  for (const char* name : {"shapes_quick.yml", "shapes.yml"}) {
    SCOPED_TRACE(name);
    const TrainConfig c = load_config((configs / name).string());
    EXPECT_TRUE(c.data.shapes.generate);
    EXPECT_FALSE(c.data.cache_dir.empty());
    EXPECT_LE(c.model.width, 0.25);
    EXPECT_LE(c.model.input_size, 256);
    EXPECT_EQ(c.optimizer.type, "adamw");
    EXPECT_EQ(c.schedule.type, "cosine");
    EXPECT_EQ(c.model.objectness_bias, -4.0);
    EXPECT_EQ(c.eval.metric, "voc");
    EXPECT_GT(c.train.max_steps, 0);
  }
  EXPECT_GT(load_config((configs / "shapes.yml").string()).train.max_steps,
            load_config((configs / "shapes_quick.yml").string()).train.max_steps);

  // The own-data template fine-tunes: a pretrained file, the backbone
  // frozen for a few epochs, Mosaic, early stopping on periodic evaluations.
  const TrainConfig custom = load_config((configs / "custom.yml").string());
  EXPECT_FALSE(custom.pretrain_weights.empty());
  EXPECT_EQ(custom.train.freeze, std::vector<std::string>{"backbone."});
  EXPECT_GT(custom.train.freeze_epochs, 0);
  EXPECT_GT(custom.train.patience, 0);
  EXPECT_GT(custom.eval.interval, 0);
  EXPECT_GT(custom.data.augment.mosaic.prob, 0);
  EXPECT_FALSE(custom.data.shapes.generate);
}

TEST(ConfigFiles, KeyReferenceDocIsCurrent) {
  std::ifstream in(source_dir() / "docs" / "config_keys.md");
  ASSERT_TRUE(in) << "docs/config_keys.md is missing; run scripts/config_reference.sh";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), config_reference_markdown())
      << "docs/config_keys.md is out of date: run scripts/config_reference.sh";
}

TEST_F(ConfigTest, EarlyStoppingNeedsPeriodicEvaluations) {
  const std::string f = write("p.yml", kData + "train:\n  patience: 3\neval:\n  interval: 0\n");
  const std::string e = error_of(f);
  EXPECT_NE(e.find("train.patience"), std::string::npos) << e;
  EXPECT_NE(e.find("eval.interval"), std::string::npos) << e;
  EXPECT_NE(error_of(f, {"train.patience=-1", "eval.interval=1"}).find("train.patience"), std::string::npos);
  EXPECT_EQ(load_config(f, {"eval.interval=2"}).train.patience, 3);
}

TEST_F(ConfigTest, MosaicProbabilityIsAProbability) {
  const std::string f = write("m.yml", kData);
  EXPECT_NE(error_of(f, {"data.augment.mosaic.prob=1.5"}).find("data.augment.mosaic.prob: must be in [0, 1], got 1.5"),
            std::string::npos);
  EXPECT_NE(error_of(f, {"data.mosaic_epochs=-2"}).find("data.mosaic_epochs"), std::string::npos);
  EXPECT_EQ(load_config(f, {"data.augment.mosaic.prob=1"}).data.augment.mosaic.prob, 1.0f);
}

}  // namespace
}  // namespace train

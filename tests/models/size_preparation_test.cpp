// prepare_training_sizes: after one call, training steps at every prepared
// size create no primitive; the network's parameters, gradients and
// batch-norm statistics come out as they went in, so the next step computes
// what it would have without the preparation; sizes are prepared largest
// first, once each; a failed preparation puts everything back; a network in
// inference mode is refused. prepare_inference_sizes: the same for
// inference forwards.
#include "models/size_preparation.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/buffer_cache.h"
#include "core/error.h"
#include "ops/backend/dnnl.h"
#include "ops/binary.h"
#include "ops/reduce.h"
#include "tests/train/tiny_model.h"

namespace models {
namespace {

using core::Tape;
using core::Tensor;

// A 1/16-width YOLOv3 (3 classes), the same weights every time.
Model small_yolov3() { return train::testing::tiny_yolov3(3, 5); }

Tensor squares(Tape& tape, const std::vector<Tensor>& heads, int /*size*/) {
  Tensor total;
  for (const Tensor& h : heads) {
    const Tensor m = ops::mean(tape, ops::mul(tape, h, h));
    total = total.defined() ? ops::add(tape, total, m) : m;
  }
  return total;
}

// One training pass at size x size (batch 2): gradients accumulate into the
// parameters' grads and the batch-norm statistics move.
void train_pass(const DarknetNetwork& network, int size) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(size));
  const Tensor images = Tensor::uniform({2, 3, size, size}, core::DType::f32, rng);
  Tape tape;
  const auto forward = network.forward(tape, images);
  tape.backward(squares(tape, forward.heads, size));
}

std::vector<std::vector<double>> values(const std::vector<NamedTensor>& tensors, bool grads) {
  std::vector<std::vector<double>> v;
  for (const auto& [name, t] : tensors) v.push_back(grads ? t.grad().to_double_vector() : t.to_double_vector());
  return v;
}

TEST(PrepareTrainingSizes, StepsAtPreparedSizesCreateNothingAndComputeAsUnprepared) {
  Model prepared = small_yolov3(), plain = small_yolov3();
  for (Model* m : {&prepared, &plain}) {
    m->network->set_training(true);
    train_pass(*m->network, 64);  // gradients and moved statistics to keep
  }
  const DarknetNetwork& net = *prepared.network;
  const auto params = values(net.named_parameters(), false), grads = values(net.named_parameters(), true);
  const auto stats = values(net.named_buffers(), false);

  const SizePreparation r = prepare_training_sizes(net, {96, 128, 96}, 2, squares);
  EXPECT_EQ(r.sizes, (std::vector<int>{128, 96}));
  EXPECT_GT(r.primitives, 0u);
  EXPECT_GT(r.seconds, 0.0);
  EXPECT_EQ(values(net.named_parameters(), false), params);
  EXPECT_EQ(values(net.named_parameters(), true), grads);
  EXPECT_EQ(values(net.named_buffers(), false), stats);

  const std::size_t cached = ops::backend::cached_primitive_count();
  for (Model* m : {&prepared, &plain}) {
    train_pass(*m->network, 128);
    train_pass(*m->network, 96);
  }
  EXPECT_EQ(ops::backend::cached_primitive_count(), cached) << "a step at a prepared size created primitives";
  EXPECT_EQ(values(net.named_parameters(), true), values(plain.network->named_parameters(), true));
  EXPECT_EQ(values(net.named_buffers(), false), values(plain.network->named_buffers(), false));
}

// A size the network cannot take throws as a training pass would, and
// leaves the network, plan-only mode and the buffer cache as they were.
TEST(PrepareTrainingSizes, AFailedPreparationPutsEverythingBack) {
  Model m = small_yolov3();
  m.network->set_training(true);
  train_pass(*m.network, 64);
  const auto grads = values(m.network->named_parameters(), true);
  const auto stats = values(m.network->named_buffers(), false);
  EXPECT_ANY_THROW(prepare_training_sizes(*m.network, {64, 80}, 2, squares));  // 80: not a multiple of 32
  EXPECT_FALSE(ops::backend::plan_only());
  EXPECT_FALSE(core::buffer_cache().set_prefault(false));
  EXPECT_EQ(values(m.network->named_parameters(), true), grads);
  EXPECT_EQ(values(m.network->named_buffers(), false), stats);
}

TEST(PrepareTrainingSizes, ANetworkInInferenceModeIsRefused) {
  Model m = small_yolov3();
  m.network->set_training(false);
  EXPECT_THROW(prepare_training_sizes(*m.network, {64}, 1, squares), core::Error);
}

// Inference: forwards at every prepared size create no primitive and give
// the heads of a twin never prepared, bit for bit (the folded weights were
// prepared for real), whether or not the unfolded weights were released.
TEST(PrepareInferenceSizes, ForwardsAtPreparedSizesCreateNothingAndComputeAsUnprepared) {
  for (const bool release : {false, true}) {
    Model prepared = small_yolov3(), plain = small_yolov3();
    for (Model* m : {&prepared, &plain}) {
      m->network->set_training(false);
      if (release) m->network->release_unfolded_weights();
    }
    // Sizes no earlier test met, so their primitives are new here.
    const int small = release ? 128 : 64, large = small + 32;
    const SizePreparation r = prepare_inference_sizes(*prepared.network, {small, large, small}, 1);
    EXPECT_EQ(r.sizes, (std::vector<int>{large, small}));
    EXPECT_GT(r.primitives, 0u);
    const std::size_t cached = ops::backend::cached_primitive_count();
    for (const int size : {small, large}) {
      std::mt19937_64 rng(static_cast<std::uint64_t>(size));
      const Tensor images = Tensor::uniform({1, 3, size, size}, core::DType::f32, rng);
      Tape a(Tape::Mode::inference), b(Tape::Mode::inference);
      const auto heads = prepared.network->forward(a, images).heads;
      const auto twin = plain.network->forward(b, images).heads;
      ASSERT_EQ(heads.size(), twin.size());
      for (std::size_t h = 0; h < heads.size(); ++h) {
        EXPECT_EQ(heads[h].to_double_vector(), twin[h].to_double_vector()) << size << " head " << h;
      }
      EXPECT_EQ(ops::backend::cached_primitive_count(), cached) << "created at prepared size " << size;
    }
  }
}

TEST(PrepareInferenceSizes, ANetworkInTrainingModeIsRefused) {
  Model m = small_yolov3();
  m.network->set_training(true);
  EXPECT_THROW(prepare_inference_sizes(*m.network, {64}, 1), core::Error);
}

}  // namespace
}  // namespace models

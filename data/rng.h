// The loader's determinism contract lives here: every random choice is drawn
// from a generator seeded by (seed, epoch, index, purpose), never from a
// worker's or process's own state, so results do not depend on which thread
// or process does the work.
#pragma once

#include <cstdint>
#include <random>

namespace data {

enum class RngPurpose : std::uint32_t { sample = 1, order = 2, batch_size = 3, preview = 4 };

inline std::mt19937 make_rng(std::uint64_t seed, std::int64_t epoch, std::int64_t index, RngPurpose purpose) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(epoch), static_cast<std::uint32_t>(static_cast<std::uint64_t>(epoch) >> 32),
                    static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(static_cast<std::uint64_t>(index) >> 32),
                    static_cast<std::uint32_t>(purpose)};
  return std::mt19937(seq);
}

// Uniform float in [lo, hi). std::uniform_real_distribution's algorithm is
// fixed by the standard only in outline; this one is ours, so results match
// across standard libraries.
inline float uniform(std::mt19937& rng, float lo, float hi) {
  const float u = static_cast<float>(rng() >> 8) * (1.0f / 16777216.0f);
  return lo + (hi - lo) * u;
}

inline bool coin(std::mt19937& rng, float prob) { return uniform(rng, 0.0f, 1.0f) < prob; }

// Integer in [0, n); n > 0 (multiply-shift: bias at most n / 2^32).
inline std::uint32_t uniform_index(std::mt19937& rng, std::uint32_t n) {
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(rng()) * n) >> 32);
}

}  // namespace data

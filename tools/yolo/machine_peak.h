// What `yolo bench` compares a step against: the machine's practical fp32
// peak (oneDNN's sgemm, measured in the same process) and the process's peak
// resident memory.
#pragma once

namespace yolo {

// GFLOP/s of oneDNN's sgemm (ops::backend::sgemm) on square float32
// matrices large enough to be compute-bound, best of a few repetitions, on
// the current OpenMP threads.
double measure_sgemm_gflops();

// The process's peak resident set so far, in MiB (getrusage's ru_maxrss).
double peak_rss_mib();

}  // namespace yolo

#include "train/interrupt.h"

#include <atomic>

namespace train {

namespace {

// Set by the SIGINT handler; read and cleared by InterruptGuard only.
std::atomic<bool> g_interrupt_requested{false};

void on_sigint(int) { g_interrupt_requested = true; }

}  // namespace

InterruptGuard::InterruptGuard() {
  g_interrupt_requested = false;
  previous_ = std::signal(SIGINT, on_sigint);
}

InterruptGuard::~InterruptGuard() { std::signal(SIGINT, previous_); }

bool InterruptGuard::requested() const { return g_interrupt_requested; }

void InterruptGuard::request() { g_interrupt_requested = true; }

}  // namespace train

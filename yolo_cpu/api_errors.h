// Inside libyolo_cpu.so only (not installed): every public entry point runs
// its body through translate_errors, so what reaches the caller is a
// yolo_cpu::Error with the framework's message. The framework's own
// exception types (core::IoError, ...) have hidden visibility in the shared
// library; a program could not catch them by name.
#pragma once

#include <exception>
#include <new>
#include <utility>

#include "yolo_cpu/yolo_cpu.h"

namespace yolo_cpu {

template <typename Body>
auto translate_errors(Body&& body) -> decltype(body()) {
  try {
    return std::forward<Body>(body)();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;  // out of memory stays what it is
  } catch (const std::exception& e) {
    throw Error(e.what());
  }
}

}  // namespace yolo_cpu

// Exception types thrown by the library. Library code never exits or aborts:
// a trainer must be able to catch, save and report. Every message names the
// op, file or key at fault and shows the shapes involved.
#pragma once

#include <stdexcept>
#include <string>

namespace core {

// Base of every error the project throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Tensor shapes, ranks or axes that an op cannot accept.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// An attribute or argument value outside its domain (stride 0, bad dtype...).
class ValueError : public Error {
 public:
  using Error::Error;
};

// A file that is missing, unreadable, truncated or malformed.
class IoError : public Error {
 public:
  using Error::Error;
};

// A configuration file or command-line setting that is wrong.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// The tape was misused: a saved tensor changed, backward on a non-scalar...
class AutogradError : public Error {
 public:
  using Error::Error;
};

// A failure reported by the oneDNN backend, rethrown with op and shapes.
class BackendError : public Error {
 public:
  using Error::Error;
};

}  // namespace core

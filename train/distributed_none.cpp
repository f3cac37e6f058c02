// communicator() of a build without MPI (YOLO_MPI=OFF): always one process.
#include <fmt/format.h>

#include <cstdlib>

#include "core/error.h"
#include "train/distributed.h"

namespace train {

Communicator& communicator() {
  static const std::unique_ptr<Communicator> single = [] {
    const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
    if (size != nullptr && std::atoi(size) > 1) {
      throw core::Error(fmt::format("started by mpirun with {} ranks, but this yolo was built without MPI "
                                    "(-DYOLO_MPI=OFF); rebuild with -DYOLO_MPI=ON",
                                    size));
    }
    return make_single_process_communicator();
  }();
  return *single;
}

}  // namespace train

#include <iostream>

#include "tools/yolo/cli.h"

int main(int argc, char** argv) { return yolo::run_cli(argc, argv, std::cout, std::cerr); }

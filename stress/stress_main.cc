// `wsafault-stress`: the stress driver as its own binary (the race hunt builds just this).
#include "stress_driver.h"

int main(int argc, char** argv) {
  static char name[] = "stress";
  argv[0] = name;
  return RunStressCommand(argc, argv);
}

# Sanitizer options. Each refuses a compiler that cannot honour it, with the reason.
if(WSAFAULT_ASAN AND WSAFAULT_TSAN)
  message(FATAL_ERROR "WSAFAULT_ASAN and WSAFAULT_TSAN cannot be combined: pick one preset")
endif()
if(WSAFAULT_ASAN OR WSAFAULT_TSAN OR WSAFAULT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang|GNU")
    message(FATAL_ERROR "sanitizers need clang or gcc, not ${CMAKE_CXX_COMPILER_ID}")
  endif()
endif()
if(WSAFAULT_FUZZ AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "WSAFAULT_FUZZ needs clang (libFuzzer); this is ${CMAKE_CXX_COMPILER_ID}")
endif()
if(WSAFAULT_ASAN OR WSAFAULT_FUZZ)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # Every translation unit agrees that fibers are ASan fibers (their default stack size), also
  # the simulator's, which the CLI may build without ASan (core/CMakeLists.txt).
  add_compile_definitions(WSAF_SIM_FIBER_ASAN=1)
endif()
if(WSAFAULT_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  # TSan inside the simulation (sim/scheduler.h): every translation unit agrees that fibers are
  # TSan fibers, also the simulation's own, which core/CMakeLists.txt builds uninstrumented.
  add_compile_definitions(WSAF_SIM_FIBER_TSAN=1 WSAF_SIM_TSAN=1)
endif()
if(WSAFAULT_FUZZ)
  # The library is instrumented for coverage; targets link the engine themselves.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

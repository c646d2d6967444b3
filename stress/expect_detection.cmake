# ctest wrapper for the planted-bug stress tests: runs PROGRAM with ARGS (one string, split
# like a shell would) and passes only if the bug was detected.
#   MODE=violation  the driver reported a violation (exit 0 under --expect-violation, with a
#                   "VIOLATION" report), or a sanitizer reported the bug first
#   MODE=sanitizer  the output matches EXPECT (a sanitizer's report, e.g. heap-use-after-free)
# A plain WILL_FAIL would also pass on a crash for an unrelated reason; this does not.
separate_arguments(argv UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${PROGRAM} ${argv}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 80)
message("${out}")
message("${err}")
set(sanitizer_report "ERROR: AddressSanitizer|WARNING: ThreadSanitizer|runtime error:")
if(MODE STREQUAL "sanitizer")
  if("${out}${err}" MATCHES "${EXPECT}")
    message(STATUS "detected: the sanitizer reported ${EXPECT}")
    return()
  endif()
  message(FATAL_ERROR "expected a sanitizer report matching '${EXPECT}' (exit ${rc})")
endif()
if(rc EQUAL 0 AND "${out}" MATCHES "==== VIOLATION")
  message(STATUS "detected: the checker reported a violation")
  return()
endif()
if("${out}" MATCHES "==== LIVENESS VIOLATION" AND rc EQUAL 0)
  message(STATUS "detected: a liveness violation")
  return()
endif()
if("${err}" MATCHES "${sanitizer_report}")
  message(STATUS "detected: a sanitizer reported the planted bug first")
  return()
endif()
message(FATAL_ERROR "the planted bug was not detected (exit ${rc})")

// canary_fuzzer: fails on purpose, to prove the pipeline catches and reports a crash.
//
// An input that starts with "WSA!" crashes: under AddressSanitizer with a heap-buffer-overflow
// read (so the sanitizer report, the stack-hash bucket and the reproducer are all exercised),
// elsewhere with abort(). libFuzzer finds the input within seconds from an empty corpus (each
// byte is its own branch). `scripts/nightly-fuzz --canary` runs it; the default run does not.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WSAFAULT_CANARY_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define WSAFAULT_CANARY_ASAN 1
#endif

namespace {

[[gnu::noinline]] void CanaryFires(const uint8_t* data, size_t size) {
  std::fprintf(stderr, "==WSAFAULT== canary_fuzzer: the canary input was found (on purpose)\n");
#if defined(WSAFAULT_CANARY_ASAN)
  char* p = static_cast<char*>(std::malloc(size));
  std::memcpy(p, data, size);
  volatile char past_the_end = p[size];  // heap-buffer-overflow, reported by ASan
  (void)past_the_end;
  std::free(p);
#else
  (void)data;
  (void)size;
#endif
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size >= 4 && data[0] == 'W') {
    if (data[1] == 'S') {
      if (data[2] == 'A') {
        if (data[3] == '!') CanaryFires(data, size);
      }
    }
  }
  return 0;
}

#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build script for wsafault's fuzz targets.
#
# Environment (set by the base-builder image): CC, CXX, CFLAGS, CXXFLAGS (sanitizer and
# coverage flags), LIB_FUZZING_ENGINE, SRC, WORK, OUT. Outputs in $OUT: each <name>_fuzzer,
# with <name>_fuzzer.dict, <name>_fuzzer.options and <name>_fuzzer_seed_corpus.zip beside it.
# The canary target is left out on purpose (it crashes by design).
#
# c-ares: built from $SRC/c-ares with the same flags when that checkout exists (the
# Dockerfile puts 1.18.1 there), else the system's libcares (pkg-config) is used.
PROJECT_SRC="${PROJECT_SRC:-$SRC/wsafault}"
[ -d "$PROJECT_SRC" ] || PROJECT_SRC="$(pwd)"
BUILD="$WORK/wsafault-build"
JOBS="$(nproc)"
TARGETS="netbase_fuzzer dns_reply_fuzzer name_fuzzer ops_fuzzer"

if [ -d "$SRC/c-ares" ]; then
  CARES_PREFIX="$WORK/c-ares-install"
  cmake -S "$SRC/c-ares" -B "$WORK/c-ares-build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" \
    -DCARES_STATIC=ON -DCARES_SHARED=OFF -DCARES_STATIC_PIC=ON -DCARES_BUILD_TOOLS=OFF \
    -DCARES_BUILD_TESTS=OFF -DCMAKE_INSTALL_PREFIX="$CARES_PREFIX" \
    -DCMAKE_INSTALL_LIBDIR=lib
  cmake --build "$WORK/c-ares-build" -j "$JOBS"
  cmake --install "$WORK/c-ares-build"
  export PKG_CONFIG_PATH="$CARES_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
fi

# WSAFAULT_FUZZ_EXTERNAL: the sanitizers come from CFLAGS/CXXFLAGS (whichever $SANITIZER the
# engine asked for), the targets link $LIB_FUZZING_ENGINE.
cmake -S "$PROJECT_SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DWSAFAULT_FUZZ_EXTERNAL=ON -DWSAFAULT_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
  -DWSAFAULT_TESTS=OFF -DWSAFAULT_BENCH=OFF -DBUILD_SHARED_LIBS=OFF
cmake --build "$BUILD" -j "$JOBS" --target $TARGETS

for target in $TARGETS; do
  name="${target%_fuzzer}"
  cp "$BUILD/fuzz/$target" "$OUT/$target"
  [ -f "$PROJECT_SRC/fuzz/$name.dict" ] && cp "$PROJECT_SRC/fuzz/$name.dict" "$OUT/$target.dict"
  [ -f "$PROJECT_SRC/fuzz/$name.options" ] && cp "$PROJECT_SRC/fuzz/$name.options" "$OUT/$target.options"
  corpus="$PROJECT_SRC/corpus/$target"
  if [ -d "$corpus" ]; then
    rm -f "$OUT/${target}_seed_corpus.zip"
    # Top-level files only: candidates/ holds unfixed crashes.
    (cd "$corpus" && find . -maxdepth 1 -type f -print | sed 's|^\./||' | sort |
       zip -q -j "$OUT/${target}_seed_corpus.zip" -@)
  fi
done

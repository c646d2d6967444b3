# Cross-compiles the peer drivers for Windows with mingw-w64 (Debian g++-mingw-w64-x86-64-posix:
# the posix thread model, so std::thread and std::mutex work). The executables run under Wine
# here (scripts/probe-peer) and natively on a Windows runner (.github/workflows/windows-peer.yml).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(WSAFAULT_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${WSAFAULT_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${WSAFAULT_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${WSAFAULT_MINGW_TRIPLE}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${WSAFAULT_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# Static runtime: the .exe needs no mingw DLLs beside it, under Wine or on Windows.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")

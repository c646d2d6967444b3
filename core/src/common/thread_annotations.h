// Clang thread-safety annotations (checked with -Wthread-safety); empty under other compilers.
#ifndef WSAFAULT_COMMON_THREAD_ANNOTATIONS_H_
#define WSAFAULT_COMMON_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define WSAF_TSA(x) __attribute__((x))
#else
#define WSAF_TSA(x)
#endif

#define CAPABILITY(x) WSAF_TSA(capability(x))
#define SCOPED_CAPABILITY WSAF_TSA(scoped_lockable)
#define GUARDED_BY(x) WSAF_TSA(guarded_by(x))
#define PT_GUARDED_BY(x) WSAF_TSA(pt_guarded_by(x))
#define REQUIRES(...) WSAF_TSA(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) WSAF_TSA(acquire_capability(__VA_ARGS__))
#define RELEASE(...) WSAF_TSA(release_capability(__VA_ARGS__))
#define EXCLUDES(...) WSAF_TSA(locks_excluded(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS WSAF_TSA(no_thread_safety_analysis)

#endif  // WSAFAULT_COMMON_THREAD_ANNOTATIONS_H_

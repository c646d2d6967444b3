// Small helpers the campaign's files share: the clock, files, escaping and number formats.
//
// Thread safety: pure functions, except the file helpers (which touch the file system).
#ifndef WSAFAULT_CLI_CAMPAIGN_UTIL_H_
#define WSAFAULT_CLI_CAMPAIGN_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace wsaf::campaign {

// Monotonic seconds.
double Now();
// "2026-11-24 22:35:11" in local time.
std::string LocalTime();

// mkdir -p; returns false with a reason.
bool MakeDirs(const std::string& path, std::string* error);
bool WriteText(const std::string& path, const std::string& text, std::string* error);
bool FileExists(const std::string& path);
bool IsExecutable(const std::string& path);
std::string DirName(const std::string& path);
// `path` from the root (children run in directories of their own); "." parts dropped.
std::string Absolute(const std::string& path);
// `path` relative to the working directory when below it: what a person types.
std::string Shown(const std::string& path);
std::string JoinPath(const std::string& a, const std::string& b);

std::string HtmlEscape(const std::string& s);
std::string JsonEscape(const std::string& s);  // without the surrounding quotes
std::string ShellQuote(const std::string& s);  // only when needed
std::string JoinCommand(const std::vector<std::string>& argv);
// Lowercase hex, two digits a byte; past `max_bytes` ends with "…".
std::string Hex(const std::vector<uint8_t>& bytes, std::size_t max_bytes);

// "4.2 s", "1 m 03 s", "—" for negative.
std::string Seconds(double s);
// "9,751", "1.2 M"
std::string Count(uint64_t n);
std::string Rate(double per_second);
std::string Printf(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace wsaf::campaign

#endif  // WSAFAULT_CLI_CAMPAIGN_UTIL_H_

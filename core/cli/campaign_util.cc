#include "campaign_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>

namespace wsaf::campaign {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string LocalTime() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

bool MakeDirs(const std::string& path, std::string* error) {
  std::string p;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if ((i == path.size() || path[i] == '/') && !p.empty()) {
      if (mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) {
        *error = "cannot create " + p + ": " + std::strerror(errno);
        return false;
      }
    }
    if (i < path.size()) p += path[i];
  }
  struct stat st{};
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *error = path + " is not a directory";
    return false;
  }
  return true;
}

bool WriteText(const std::string& path, const std::string& text, std::string* error) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << text;
  out.close();
  if (!out) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool FileExists(const std::string& path) {
  struct stat st{};
  return stat(path.c_str(), &st) == 0;
}

bool IsExecutable(const std::string& path) {
  struct stat st{};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

std::string DirName(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

namespace {
std::string WorkingDir() {
  char buf[4096];
  return getcwd(buf, sizeof buf) != nullptr ? std::string(buf) : std::string(".");
}
}  // namespace

std::string Absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  std::string rel = path;
  while (rel.compare(0, 2, "./") == 0) rel.erase(0, 2);
  if (rel == ".") return WorkingDir();
  return WorkingDir() + "/" + rel;
}

std::string Shown(const std::string& path) {
  std::string prefix = WorkingDir() + "/";
  return path.compare(0, prefix.size(), prefix) == 0 ? path.substr(prefix.size()) : path;
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty() || a == ".") return b;
  return a.back() == '/' ? a + b : a + "/" + b;
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += Printf("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string ShellQuote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-+=./:,@%") == std::string::npos) {
    return s;
  }
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string JoinCommand(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) out += (out.empty() ? "" : " ") + ShellQuote(a);
  return out;
}

std::string Hex(const std::vector<uint8_t>& bytes, std::size_t max_bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  std::size_t n = std::min(bytes.size(), max_bytes);
  out.reserve(n * 2 + 4);
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  if (n < bytes.size()) out += "\xe2\x80\xa6";
  return out;
}

std::string Seconds(double s) {
  if (s < 0) return "-";
  if (s < 10) return Printf("%.2f s", s);
  if (s < 120) return Printf("%.1f s", s);
  int whole = static_cast<int>(s + 0.5);
  return Printf("%d m %02d s", whole / 60, whole % 60);
}

std::string Count(uint64_t n) {
  if (n >= 10'000'000ull) return Printf("%.1f M", n / 1e6);
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Rate(double per_second) {
  if (per_second >= 1e6) return Printf("%.1f M/s", per_second / 1e6);
  if (per_second >= 1e4) return Printf("%.0f k/s", per_second / 1e3);
  if (per_second >= 100) return Printf("%.0f/s", per_second);
  return Printf("%.1f/s", per_second);
}

std::string Printf(const char* format, ...) {
  va_list args;
  va_start(args, format);
  char small[256];
  va_list copy;
  va_copy(copy, args);
  int n = std::vsnprintf(small, sizeof small, format, copy);
  va_end(copy);
  std::string out;
  if (n < 0) {
    va_end(args);
    return out;
  }
  if (static_cast<std::size_t>(n) < sizeof small) {
    out.assign(small, n);
  } else {
    out.resize(n + 1);
    std::vsnprintf(out.data(), out.size(), format, args);
    out.resize(n);
  }
  va_end(args);
  return out;
}

}  // namespace wsaf::campaign

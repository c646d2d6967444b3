// The winsock target: the system's ws2_32 and user32. No control beyond Winsock: DNS, services
// and protocols are whatever the environment gives (scripts/probe-peer builds that environment).
#include <string>

#include "target.h"

namespace wsaf_peer {
namespace {

LRESULT CALLBACK PeerWindowProc(HWND w, UINT m, WPARAM wp, LPARAM lp) {
  return DefWindowProcA(w, m, wp, lp);
}

class WinsockTarget : public Target {
 public:
  const char* Name() const override { return "winsock"; }
  unsigned Controls() const override { return 0; }

  bool Setup(const std::string&, const std::string& planted_bug, std::string* error) override {
    if (!planted_bug.empty()) {
      *error = "the winsock target has no planted bugs";
      return false;
    }
    WNDCLASSA wc = {};
    wc.lpfnWndProc = PeerWindowProc;
    wc.hInstance = GetModuleHandleA(nullptr);
    wc.lpszClassName = kClass;
    if (!RegisterClassA(&wc)) {
      *error = "RegisterClass failed: " + std::to_string(GetLastError());
      return false;
    }
    return true;
  }

  HWND NewWindow() override {
    return CreateWindowExA(0, kClass, "", 0, 0, 0, 0, 0, HWND_MESSAGE, nullptr,
                           GetModuleHandleA(nullptr), nullptr);
  }

 private:
  static constexpr const char* kClass = "wsafault_peer";
};

}  // namespace

Target& TheTarget() {
  static WinsockTarget target;
  return target;
}

}  // namespace wsaf_peer

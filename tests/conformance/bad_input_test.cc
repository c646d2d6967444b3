// SPEC.md "Starting a request" argument errors (WSAEFAULT: NULL name or address, NULL buffer
// with a nonzero length, negative length), WSAAsyncGetHostByAddr's type and length checks
// (WSAEAFNOSUPPORT, WSAEFAULT), and hostile input that must give the specified error and never
// crash: a 4,000-character name, garbage handles, a destroyed window, out-of-range numbers.
#include <climits>
#include <string>

#include "conformance_env.h"

namespace wsaf_conf {
namespace {

class BadInputTest : public WsaLongDnsTest {
 protected:
  // A failed start returns 0 with `expected` and posts nothing.
  void ExpectStartFails(HANDLE h, int expected) {
    int err = WSAGetLastError();
    EXPECT_EQ(nullptr, h);
    EXPECT_EQ(expected, err);
  }
  int ErrorOf(HANDLE h) {
    EXPECT_NE(nullptr, h) << "start failed, error " << WSAGetLastError();
    if (h == nullptr) return -1;
    Reply r;
    if (!WaitReply(h, &r)) {
      ADD_FAILURE() << "no completion message within 5 s";
      return -1;
    }
    return r.error;
  }
};

TEST_F(BadInputTest, NullNameOrAddressFailsEFault) {
  CanaryBuffer buf;
  WSASetLastError(0);
  ExpectStartFails(WSAAsyncGetHostByName(window(), kMsg, nullptr, buf.data(), buf.size()),
                   WSAEFAULT);
  WSASetLastError(0);
  ExpectStartFails(WSAAsyncGetProtoByName(window(), kMsg, nullptr, buf.data(), buf.size()),
                   WSAEFAULT);
  WSASetLastError(0);
  ExpectStartFails(
      WSAAsyncGetServByName(window(), kMsg, nullptr, "tcp", buf.data(), buf.size()), WSAEFAULT);
  WSASetLastError(0);
  ExpectStartFails(WSAAsyncGetHostByAddr(window(), kMsg, nullptr, 4, AF_INET, buf.data(),
                                         buf.size()),
                   WSAEFAULT);
  SleepMs(100);
  EXPECT_TRUE(NoMessageAnywhere());
  EXPECT_TRUE(buf.Intact());
}

TEST_F(BadInputTest, NullBufferWithNonzeroLengthFailsEFault) {
  for (const Starter& s : AllStarters()) {
    SCOPED_TRACE(s.name);
    for (int len : {1, 100, MAXGETHOSTSTRUCT}) {
      WSASetLastError(0);
      ExpectStartFails(s.start(window(), kMsg, nullptr, len), WSAEFAULT);
    }
  }
  SleepMs(100);
  EXPECT_TRUE(NoMessageAnywhere());
}

TEST_F(BadInputTest, NegativeLengthFailsEFault) {
  for (const Starter& s : AllStarters()) {
    SCOPED_TRACE(s.name);
    for (int len : {-1, -1024, INT_MIN}) {
      CanaryBuffer buf;
      WSASetLastError(0);
      ExpectStartFails(s.start(window(), kMsg, buf.data(), len), WSAEFAULT);
      EXPECT_TRUE(buf.Intact());
    }
  }
  SleepMs(100);
  EXPECT_TRUE(NoMessageAnywhere());
}

// "type not AF_INET/AF_INET6 → WSAEAFNOSUPPORT".
TEST_F(BadInputTest, HostByAddrUnsupportedFamilyFailsEAfNoSupport) {
  in_addr a;
  inet_pton(AF_INET, "10.0.0.1", &a);
  CanaryBuffer buf;
  for (int type : {AF_UNSPEC, AF_UNIX, 12345, -1}) {
    SCOPED_TRACE(testing::Message() << "type " << type);
    WSASetLastError(0);
    ExpectStartFails(WSAAsyncGetHostByAddr(window(), kMsg, reinterpret_cast<const char*>(&a), 4,
                                           type, buf.data(), buf.size()),
                     WSAEAFNOSUPPORT);
  }
  EXPECT_TRUE(buf.Intact());
}

// "len not matching the type (4 / 16) → WSAEFAULT".
TEST_F(BadInputTest, HostByAddrLengthMismatchFailsEFault) {
  char addr[32] = {10, 0, 0, 1};
  CanaryBuffer buf;
  for (int len : {0, 3, 5, 16, -1}) {
    SCOPED_TRACE(testing::Message() << "AF_INET len " << len);
    WSASetLastError(0);
    ExpectStartFails(
        WSAAsyncGetHostByAddr(window(), kMsg, addr, len, AF_INET, buf.data(), buf.size()),
        WSAEFAULT);
  }
  for (int len : {0, 4, 15, 17}) {
    SCOPED_TRACE(testing::Message() << "AF_INET6 len " << len);
    WSASetLastError(0);
    ExpectStartFails(
        WSAAsyncGetHostByAddr(window(), kMsg, addr, len, AF_INET6, buf.data(), buf.size()),
        WSAEFAULT);
  }
  EXPECT_TRUE(buf.Intact());
}

// "A 4,000-character host name: the start succeeds and the message carries WSAHOST_NOT_FOUND."
TEST_F(BadInputTest, VeryLongHostNameCompletesHostNotFound) {
  std::string flat(4000, 'a');
  std::string dotted;
  while (dotted.size() < 4000) dotted += std::string(62, 'b') + ".";
  dotted.resize(4000);
  for (const std::string* name : {&flat, &dotted}) {
    CanaryBuffer buf;
    EXPECT_EQ(WSAHOST_NOT_FOUND,
              ErrorOf(WSAAsyncGetHostByName(window(), kMsg, name->c_str(), buf.data(),
                                            buf.size())));
  }
}

// Long service and protocol names simply are not found: WSANO_DATA.
TEST_F(BadInputTest, VeryLongServiceAndProtocolNamesAreNoData) {
  std::string name(4000, 's');
  CanaryBuffer buf;
  EXPECT_EQ(WSANO_DATA, ErrorOf(WSAAsyncGetServByName(window(), kMsg, name.c_str(), "tcp",
                                                      buf.data(), buf.size())));
  EXPECT_EQ(WSANO_DATA, ErrorOf(WSAAsyncGetServByName(window(), kMsg, "http", name.c_str(),
                                                      buf.data(), buf.size())));
  EXPECT_EQ(WSANO_DATA, ErrorOf(WSAAsyncGetServByPort(window(), kMsg, htons(80), name.c_str(),
                                                      buf.data(), buf.size())));
  EXPECT_EQ(WSANO_DATA, ErrorOf(WSAAsyncGetProtoByName(window(), kMsg, name.c_str(), buf.data(),
                                                       buf.size())));
}

TEST_F(BadInputTest, OutOfRangeProtocolNumbersAreNoData) {
  CanaryBuffer buf;
  for (int number : {-1, 256, 65536 + 6, INT_MAX, INT_MIN}) {
    SCOPED_TRACE(testing::Message() << "protocol " << number);
    EXPECT_EQ(WSANO_DATA, ErrorOf(WSAAsyncGetProtoByNumber(window(), kMsg, number, buf.data(),
                                                           buf.size())));
  }
}

// Empty names: either the start fails with an error, or exactly one message with a failure.
TEST_F(BadInputTest, EmptyNamesNeverSucceedAndDeliverOnce) {
  CanaryBuffer buf;
  HANDLE hs[] = {
      WSAAsyncGetHostByName(window(), kMsg, "", buf.data(), buf.size()),
      WSAAsyncGetServByName(window(), kMsg, "", nullptr, buf.data(), buf.size()),
      WSAAsyncGetProtoByName(window(), kMsg, "", buf.data(), buf.size()),
  };
  for (HANDLE h : hs) {
    if (h == nullptr) {
      EXPECT_NE(0, WSAGetLastError());
      continue;
    }
    Reply r;
    ASSERT_TRUE(WaitReply(h, &r));
    EXPECT_NE(0, r.error);
    EXPECT_EQ(0, CountRepliesAfter(h, milliseconds(50)));
  }
}

// Garbage handles: WSAEINVAL, no crash, and a live request is untouched.
TEST_F(BadInputTest, GarbageHandlesFailEInval) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDrop();
  CanaryBuffer buf;
  HANDLE live = StartPending(buf.data(), buf.size());
  ASSERT_NE(nullptr, live);
  const HANDLE garbage[] = {reinterpret_cast<HANDLE>(1),
                            reinterpret_cast<HANDLE>(-1),
                            reinterpret_cast<HANDLE>(-2),
                            reinterpret_cast<HANDLE>(0x8000000000000000ull),
                            reinterpret_cast<HANDLE>(0x7fffffffffffffffull),
                            reinterpret_cast<HANDLE>(&buf),
                            reinterpret_cast<HANDLE>(window())};
  for (HANDLE g : garbage) {
    if (g == live) continue;
    SCOPED_TRACE(testing::Message() << "handle " << g);
    WSASetLastError(0);
    EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(g));
    EXPECT_EQ(WSAEINVAL, WSAGetLastError());
  }
  EXPECT_EQ(0, WSACancelAsyncRequest(live)) << "a garbage cancel hit the live request";
  EXPECT_TRUE(buf.Intact());
}

// A start on a destroyed window never crashes and never delivers: either it fails with an
// error, or the request completes silently (buffer untouched, nothing posted, no longer
// cancelable).
TEST_F(BadInputTest, StartOnDestroyedWindowNeverDelivers) {
  HWND w = NewWindow();
  ASSERT_NE(nullptr, w);
  ASSERT_TRUE(DestroyWindow(w));
  for (const Starter& s : AllStarters()) {
    SCOPED_TRACE(s.name);
    CanaryBuffer buf;
    WSASetLastError(0);
    HANDLE h = s.start(w, kMsg, buf.data(), buf.size());
    if (h == nullptr) {
      EXPECT_NE(0, WSAGetLastError());
      continue;
    }
    SleepMs(300);
    EXPECT_TRUE(NoMessageAnywhere());
    EXPECT_TRUE(buf.Intact()) << "a destroyed window's request wrote its buffer";
    WSASetLastError(0);
    EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(h));
    int err = WSAGetLastError();
    EXPECT_TRUE(err == WSAEALREADY || err == WSAEINVAL) << "error " << err;
  }
}

}  // namespace
}  // namespace wsaf_conf

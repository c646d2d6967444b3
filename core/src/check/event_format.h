// One event of the log as a person reads it: the call with its arguments and what it returned.
// Shared by violation reports and the timelines, so both say the same thing.
//
// Thread safety: pure functions.
#ifndef WSAFAULT_CHECK_EVENT_FORMAT_H_
#define WSAFAULT_CHECK_EVENT_FORMAT_H_

#include <string>

#include "sim/events.h"

namespace wsaf::check {

// "WSAAsyncGetHostByName(win 0, buf #2, len 1024)", "WSACancelAsyncRequest(0x400001)", ...
std::string DescribeCall(const sim::Event& e);
// "0x400001", "NULL, WSAEFAULT", "SOCKET_ERROR, WSAEALREADY", "TRUE: completion 0x400001
// WSAENOBUFS len 212", ...; empty for events that return nothing.
std::string DescribeResult(const sim::Event& e);
// The message of a kPeek/kGet that returned one: "completion 0x400001 OK len 88 from win 0".
std::string DescribeMessage(const sim::Event& e);
// True when `e` carries a completion message (kPeek TRUE / kGet > 0 with kCompletionMsg).
bool HasCompletionMessage(const sim::Event& e);
// True when `e` removed the message it carries.
bool RemovesMessage(const sim::Event& e);

}  // namespace wsaf::check

#endif  // WSAFAULT_CHECK_EVENT_FORMAT_H_

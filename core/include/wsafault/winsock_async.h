/*
 * wsafault/winsock_async.h — the Windows Sockets asynchronous database API on Linux.
 *
 * Overview
 *   WSAAsyncGetHostByName and its five siblings start a lookup and return at once with a
 *   nonzero task HANDLE. When the lookup completes, the result is packed into the caller's
 *   buffer (a hostent / servent / protoent at the start, everything it points to after it)
 *   and a message is posted to the caller's window: message = wMsg, wParam = the handle,
 *   lParam = WSAMAKEASYNCREPLY(buflen, error). WSACancelAsyncRequest cancels a request that
 *   has not completed yet. Windows here are message-only queues made by wsaf_create_window.
 *
 * Thread safety
 *   Every function may be called from any thread. The last error (WSAGetLastError) is per
 *   thread. Cancel may race with completion, dispatch, cleanup and window destruction on
 *   other threads; exactly one of "cancel wins" and "the resolver commits a result" happens.
 *
 * Memory ordering
 *   The bytes of the caller's buffer are written before the completion message is posted;
 *   a thread that removes the message with PeekMessage/GetMessage sees the whole result.
 *
 * Lifetime
 *   The caller's buffer must stay valid until the request's message has been posted, or
 *   until WSACancelAsyncRequest returned 0 for it, or until the final WSACleanup returned.
 *   After any of those three, the library never touches the buffer again, so it may be
 *   freed. Task handles are unique for the life of the process: a stale handle never names
 *   a newer request.
 */
#ifndef WSAFAULT_WINSOCK_ASYNC_H_
#define WSAFAULT_WINSOCK_ASYNC_H_

#include <netdb.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint16_t WORD;
typedef uint32_t DWORD;
typedef int BOOL;
typedef unsigned int UINT;
typedef unsigned int u_int;
typedef unsigned short u_short;
typedef uintptr_t WPARAM;
typedef intptr_t LPARAM;
typedef void* HANDLE;
typedef struct wsaf_window_* HWND;
/* The blocking hook: returns nonzero when it did some work. Winsock casts hooks to FARPROC. */
typedef intptr_t (*FARPROC)(void);

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

#define WSADESCRIPTION_LEN 256
#define WSASYS_STATUS_LEN 128

typedef struct WSAData {
  WORD wVersion;
  WORD wHighVersion;
  unsigned short iMaxSockets;
  unsigned short iMaxUdpDg;
  char* lpVendorInfo;
  char szDescription[WSADESCRIPTION_LEN + 1];
  char szSystemStatus[WSASYS_STATUS_LEN + 1];
} WSADATA, *LPWSADATA;

typedef struct tagPOINT {
  long x;
  long y;
} POINT;

typedef struct tagMSG {
  HWND hwnd;
  UINT message;
  WPARAM wParam;
  LPARAM lParam;
  DWORD time;
  POINT pt;
} MSG, *LPMSG;

#define MAKEWORD(low, high) ((WORD)(((uint8_t)(low)) | ((WORD)((uint8_t)(high))) << 8))
#define LOBYTE(w) ((uint8_t)((w)&0xff))
#define HIBYTE(w) ((uint8_t)(((WORD)(w) >> 8) & 0xff))
#define LOWORD(l) ((WORD)((DWORD)(l)&0xffff))
#define HIWORD(l) ((WORD)(((DWORD)(l) >> 16) & 0xffff))
#define MAKELONG(low, high) ((DWORD)(((WORD)(low)) | ((DWORD)((WORD)(high))) << 16))

#define SOCKET_ERROR (-1)
#define MAXGETHOSTSTRUCT 1024

#define WSAMAKEASYNCREPLY(buflen, error) MAKELONG(buflen, error)
#define WSAGETASYNCBUFLEN(lParam) LOWORD(lParam)
#define WSAGETASYNCERROR(lParam) HIWORD(lParam)

#define PM_NOREMOVE 0x0000
#define PM_REMOVE 0x0001
#define WM_QUIT 0x0012
#define WM_USER 0x0400

/* Winsock error codes, with Winsock's numeric values. */
#define WSABASEERR 10000
#define WSAEINTR 10004
#define WSAEBADF 10009
#define WSAEACCES 10013
#define WSAEFAULT 10014
#define WSAEINVAL 10022
#define WSAEMFILE 10024
#define WSAEWOULDBLOCK 10035
#define WSAEINPROGRESS 10036
#define WSAEALREADY 10037
#define WSAEOPNOTSUPP 10045
#define WSAEAFNOSUPPORT 10047
#define WSAENETDOWN 10050
#define WSAENOBUFS 10055
#define WSASYSNOTREADY 10091
#define WSAVERNOTSUPPORTED 10092
#define WSANOTINITIALISED 10093
#define WSAHOST_NOT_FOUND 11001
#define WSATRY_AGAIN 11002
#define WSANO_RECOVERY 11003
#define WSANO_DATA 11004
#define WSANO_ADDRESS WSANO_DATA

/* --- Startup, cleanup, last error ------------------------------------------------------ */

/* Reference counted. Returns 0, or an error code directly (WSAVERNOTSUPPORTED for versions
 * below 1.1, WSAEFAULT for a NULL lpWSAData). 1.1 negotiates 1.1; 2.0 and above negotiate 2.2. */
int WSAStartup(WORD wVersionRequested, LPWSADATA lpWSAData);
/* Returns 0 or SOCKET_ERROR (WSANOTINITIALISED without a matching startup, WSAEINPROGRESS
 * inside a blocking hook). The last cleanup cancels every outstanding request without posting
 * messages and returns without waiting for DNS timeouts; no buffer is written after it. */
int WSACleanup(void);
int WSAGetLastError(void);
void WSASetLastError(int iError);

/* --- Asynchronous database functions ---------------------------------------------------
 * Each returns a nonzero task handle, or 0 with the last error set: WSANOTINITIALISED,
 * WSAENETDOWN, WSAEINPROGRESS (in that order), then WSAEFAULT (NULL name/address, NULL buffer
 * with a nonzero length, negative length), WSAEWOULDBLOCK (no request slot). A NULL buffer with
 * length 0 is a size query: the message reports WSAENOBUFS with the size needed. */
HANDLE WSAAsyncGetHostByName(HWND hWnd, u_int wMsg, const char* name, char* buf, int buflen);
HANDLE WSAAsyncGetHostByAddr(HWND hWnd, u_int wMsg, const char* addr, int len, int type,
                             char* buf, int buflen);
HANDLE WSAAsyncGetProtoByName(HWND hWnd, u_int wMsg, const char* name, char* buf, int buflen);
HANDLE WSAAsyncGetProtoByNumber(HWND hWnd, u_int wMsg, int number, char* buf, int buflen);
HANDLE WSAAsyncGetServByName(HWND hWnd, u_int wMsg, const char* name, const char* proto,
                             char* buf, int buflen);
/* port is in network byte order, as in Winsock. */
HANDLE WSAAsyncGetServByPort(HWND hWnd, u_int wMsg, int port, const char* proto, char* buf,
                             int buflen);

/* Returns 0 when the request was pending and is now canceled (no message will be posted and
 * the buffer is never written again), else SOCKET_ERROR with: WSANOTINITIALISED, WSAENETDOWN,
 * WSAEINPROGRESS, WSAEINVAL (0, never issued, issued before the last full cleanup, already
 * canceled, or forgotten), WSAEALREADY (completed: message queued or dispatched). */
int WSACancelAsyncRequest(HANDLE hAsyncTaskHandle);

/* --- Winsock 1.1 blocking calls (a 1.1 session; WSAEOPNOTSUPP in a 2.x session) -------- */
BOOL WSAIsBlocking(void);
int WSACancelBlockingCall(void);
FARPROC WSASetBlockingHook(FARPROC lpBlockFunc);
int WSAUnhookBlockingHook(void);
/* A blocking host lookup that runs the blocking hook while it waits (in a 1.1 session). The
 * result lives in per-thread storage valid until the thread's next call. NULL on failure with
 * the last error set (WSAEINTR when WSACancelBlockingCall interrupted it). */
struct hostent* wsaf_gethostbyname(const char* name);

/* --- Message windows ---------------------------------------------------------------------
 * Message-only windows, each with its own queue of at most 10,000 messages. Any thread may
 * pump any window. */
HWND wsaf_create_window(void);
BOOL DestroyWindow(HWND hWnd);
/* FALSE when the window does not exist (or was destroyed) or its queue is full. */
BOOL PostMessage(HWND hWnd, UINT Msg, WPARAM wParam, LPARAM lParam);
/* hWnd NULL looks at every window. wMsgFilterMin = wMsgFilterMax = 0 accepts every message. */
BOOL PeekMessage(LPMSG lpMsg, HWND hWnd, UINT wMsgFilterMin, UINT wMsgFilterMax, UINT wRemoveMsg);
/* Blocks until a matching message arrives. Returns nonzero for a message, 0 for WM_QUIT, -1
 * for an invalid or destroyed window or a NULL lpMsg. */
BOOL GetMessage(LPMSG lpMsg, HWND hWnd, UINT wMsgFilterMin, UINT wMsgFilterMax);

/* --- Control ------------------------------------------------------------------------------ */

/* The DNS servers c-ares queries, as "host:port,host:port" ("127.0.0.1:5353"). Usable before
 * or after WSAStartup; applies to lookups started afterwards. Returns 0, or -1 for a malformed
 * list (nothing changes then). Until it is called, DNS goes to 127.0.0.1:53 only. */
int wsaf_set_dns_servers(const char* csv);
/* Per-try DNS timeout in milliseconds and number of tries (defaults 2000 ms and 2). Returns 0
 * or -1 for values out of range (timeout 1..60000, tries 1..10). */
int wsaf_set_dns_timeout(int timeout_ms, int tries);
/* The netbase files services and protocols are read from (NULL: /etc/services and
 * /etc/protocols). Returns 0, or -1 when a file cannot be read (nothing changes then). */
int wsaf_set_netbase_files(const char* services_path, const char* protocols_path);
/* For testing an application's WSAEWOULDBLOCK handling: from the next WSAStartup on, at most
 * max_requests requests hold a task-table slot at once (default and upper bound
 * WSAF_MAX_REQUESTS), and a start beyond that fails with WSAEWOULDBLOCK. A request holds its
 * slot from its start until its message is removed from the queue (or its window destroyed); a
 * canceled one until the resolver is done with it (at once if its lookup had not begun, else
 * when the lookup ends). A message of an ended session still queued keeps its slot too. Only
 * between sessions (before the first WSAStartup or after the final WSACleanup). Returns 0, or
 * -1 during a session, for 0, or for a larger value (nothing changes then). */
#define WSAF_MAX_REQUESTS 4194303u /* the default, and the table's size limit */
int wsaf_set_max_requests(unsigned int max_requests);
/* Puts the network subsystem down (1) or up (0). While down, starts and cancels fail with
 * WSAENETDOWN and lookups that complete deliver WSAENETDOWN; pending requests stay pending. */
void wsaf_set_network_down(int down);

#ifdef __cplusplus
}
#endif

#endif /* WSAFAULT_WINSOCK_ASYNC_H_ */

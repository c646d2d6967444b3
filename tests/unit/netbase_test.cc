// The netbase parser and lookups: the corpus files, the malformed-line rules, arbitrary bytes,
// and the libc views (ports in network byte order).
#include "resolver/netbase.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "resolver/pack.h"

namespace wsaf {
namespace {

std::string ReadCorpus(const char* name) {
  std::string text, error;
  const std::string path = std::string(WSAF_SOURCE_DIR) + "/corpus/netbase/" + name;
  EXPECT_TRUE(ReadSmallFile(path, &text, &error)) << error;
  return text;
}

class NetbaseCorpus : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(db_.ParseServices(ReadCorpus("services")), 0);
    ASSERT_EQ(db_.ParseProtocols(ReadCorpus("protocols")), 0);
  }
  NetbaseDb db_;
};

TEST_F(NetbaseCorpus, ParsesEveryServiceLineInOrder) {
  ASSERT_EQ(db_.services().size(), 15u);
  const ServiceEntry& first = db_.services().front();
  EXPECT_EQ(first.name, "echo");
  EXPECT_EQ(first.port, 7);
  EXPECT_EQ(first.proto, "tcp");
  EXPECT_TRUE(first.aliases.empty());
  const ServiceEntry& last = db_.services().back();
  EXPECT_EQ(last.name, "wsafault-test");
  EXPECT_EQ(last.port, 65000);
  EXPECT_EQ(last.aliases, (std::vector<std::string>{"wsaf-alias1", "wsaf-alias2", "wsaf-alias3"}));
}

TEST_F(NetbaseCorpus, TrailingCommentsAreNotAliases) {
  const ServiceEntry* http = db_.FindServiceByName("http", "tcp");
  ASSERT_NE(http, nullptr);
  EXPECT_EQ(http->aliases, (std::vector<std::string>{"www", "www-http"}));
  const ServiceEntry* ssh = db_.FindServiceByName("ssh", "tcp");
  ASSERT_NE(ssh, nullptr);
  EXPECT_TRUE(ssh->aliases.empty());
}

TEST_F(NetbaseCorpus, FindsServiceByNameOrAlias) {
  const ServiceEntry* www = db_.FindServiceByName("www", "tcp");
  ASSERT_NE(www, nullptr);
  EXPECT_EQ(www->name, "http");
  EXPECT_EQ(www->port, 80);
  const ServiceEntry* krb = db_.FindServiceByName("krb5", "udp");
  ASSERT_NE(krb, nullptr);
  EXPECT_EQ(krb->name, "kerberos");
  EXPECT_EQ(krb->proto, "udp");
  const ServiceEntry* alias3 = db_.FindServiceByName("wsaf-alias3", nullptr);
  ASSERT_NE(alias3, nullptr);
  EXPECT_EQ(alias3->port, 65000);
}

TEST_F(NetbaseCorpus, AnyProtoTakesTheFirstMatchInFileOrder) {
  for (const char* any : {static_cast<const char*>(nullptr), ""}) {
    const ServiceEntry* domain = db_.FindServiceByName("domain", any);
    ASSERT_NE(domain, nullptr);
    EXPECT_EQ(domain->proto, "tcp");  // the tcp line comes first
    EXPECT_EQ(domain, &db_.services()[6]);
  }
  const ServiceEntry* udp = db_.FindServiceByName("domain", "udp");
  ASSERT_NE(udp, nullptr);
  EXPECT_EQ(udp->proto, "udp");
  EXPECT_EQ(udp->port, 53);
}

TEST_F(NetbaseCorpus, NameLookupIsExactAndCaseSensitive) {
  EXPECT_EQ(db_.FindServiceByName("http", "udp"), nullptr);
  EXPECT_EQ(db_.FindServiceByName("HTTP", "tcp"), nullptr);
  EXPECT_EQ(db_.FindServiceByName("htt", "tcp"), nullptr);
  EXPECT_EQ(db_.FindServiceByName("http", "TCP"), nullptr);
  EXPECT_EQ(db_.FindServiceByName("nosuch", nullptr), nullptr);
  EXPECT_EQ(db_.FindServiceByName(nullptr, nullptr), nullptr);
}

TEST_F(NetbaseCorpus, FindsServiceByHostOrderPort) {
  const ServiceEntry* any = db_.FindServiceByPort(53, nullptr);
  ASSERT_NE(any, nullptr);
  EXPECT_EQ(any->proto, "tcp");
  const ServiceEntry* udp = db_.FindServiceByPort(53, "udp");
  ASSERT_NE(udp, nullptr);
  EXPECT_EQ(udp->name, "domain");
  EXPECT_EQ(udp->proto, "udp");
  const ServiceEntry* ntp = db_.FindServiceByPort(123, "");
  ASSERT_NE(ntp, nullptr);
  EXPECT_EQ(ntp->name, "ntp");
  EXPECT_EQ(db_.FindServiceByPort(123, "tcp"), nullptr);
  EXPECT_EQ(db_.FindServiceByPort(htons(80), "tcp"), nullptr);  // network order is not a port
  for (int port : {9, -1, 65536, 1 << 30}) EXPECT_EQ(db_.FindServiceByPort(port, nullptr), nullptr);
}

TEST_F(NetbaseCorpus, FindsProtocolsByNameAliasAndNumber) {
  ASSERT_EQ(db_.protocols().size(), 7u);
  const ProtocolEntry* tcp = db_.FindProtocolByName("tcp");
  ASSERT_NE(tcp, nullptr);
  EXPECT_EQ(tcp->number, 6);
  EXPECT_EQ(tcp->aliases, std::vector<std::string>{"TCP"});
  const ProtocolEntry* alias = db_.FindProtocolByName("IPv6-ICMP");  // single-space separator
  ASSERT_NE(alias, nullptr);
  EXPECT_EQ(alias->name, "ipv6-icmp");
  EXPECT_EQ(alias->number, 58);
  const ProtocolEntry* udp = db_.FindProtocolByNumber(17);
  ASSERT_NE(udp, nullptr);
  EXPECT_EQ(udp->name, "udp");
  const ProtocolEntry* ip = db_.FindProtocolByNumber(0);
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(ip->name, "ip");
  EXPECT_EQ(db_.FindProtocolByNumber(200), nullptr);
  EXPECT_EQ(db_.FindProtocolByNumber(-6), nullptr);
  EXPECT_EQ(db_.FindProtocolByName("Tcp"), nullptr);
  EXPECT_EQ(db_.FindProtocolByName(nullptr), nullptr);
}

TEST_F(NetbaseCorpus, ServentViewHasNetworkOrderPortAndTerminatedAliases) {
  const ServiceEntry* http = db_.FindServiceByName("http", "tcp");
  ASSERT_NE(http, nullptr);
  const ServentView view(*http);
  const servent& s = view.get();
  EXPECT_STREQ(s.s_name, "http");
  EXPECT_EQ(s.s_port, static_cast<int>(htons(80)));
  EXPECT_EQ(ntohs(static_cast<uint16_t>(s.s_port)), 80);
  EXPECT_STREQ(s.s_proto, "tcp");
  ASSERT_NE(s.s_aliases, nullptr);
  EXPECT_STREQ(s.s_aliases[0], "www");
  EXPECT_STREQ(s.s_aliases[1], "www-http");
  EXPECT_EQ(s.s_aliases[2], nullptr);

  const ServentView high(*db_.FindServiceByPort(65000, nullptr));
  EXPECT_EQ(high.get().s_port, static_cast<int>(htons(65000)));  // no sign extension
}

TEST_F(NetbaseCorpus, ViewsWithoutAliasesHaveEmptyTerminatedArrays) {
  const ServentView ftp(*db_.FindServiceByName("ftp", nullptr));
  ASSERT_NE(ftp.get().s_aliases, nullptr);
  EXPECT_EQ(ftp.get().s_aliases[0], nullptr);
  ProtocolEntry bare;
  bare.name = "bare";
  bare.number = 99;
  const ProtoentView view(bare);
  ASSERT_NE(view.get().p_aliases, nullptr);
  EXPECT_EQ(view.get().p_aliases[0], nullptr);
  EXPECT_EQ(view.get().p_proto, 99);
}

TEST_F(NetbaseCorpus, ProtoentViewMatchesEntry) {
  const ProtoentView view(*db_.FindProtocolByName("ipv6"));
  const protoent& p = view.get();
  EXPECT_STREQ(p.p_name, "ipv6");
  EXPECT_EQ(p.p_proto, 41);
  EXPECT_STREQ(p.p_aliases[0], "IPv6");
  EXPECT_EQ(p.p_aliases[1], nullptr);
}

TEST_F(NetbaseCorpus, ViewsPackIntoValidBuffers) {
  const ServentView sv(*db_.FindServiceByName("kerberos", "udp"));
  const PackResult sq = PackServent(sv.get(), nullptr, 0);
  std::vector<char> sbuf(sq.size);
  ASSERT_TRUE(PackServent(sv.get(), sbuf.data(), sbuf.size()).fits);
  EXPECT_TRUE(ValidatePackedServent(sbuf.data(), sbuf.size(), nullptr));
  servent s;
  std::memcpy(&s, sbuf.data(), sizeof s);
  EXPECT_EQ(s.s_port, static_cast<int>(htons(88)));
  EXPECT_STREQ(s.s_aliases[2], "kerberos-sec");

  const ProtoentView pv(*db_.FindProtocolByNumber(132));
  const PackResult pq = PackProtoent(pv.get(), nullptr, 0);
  std::vector<char> pbuf(pq.size);
  ASSERT_TRUE(PackProtoent(pv.get(), pbuf.data(), pbuf.size()).fits);
  EXPECT_TRUE(ValidatePackedProtoent(pbuf.data(), pbuf.size(), nullptr));
}

// ---- Parser rules ----------------------------------------------------------------------------

TEST(NetbaseParse, MalformedServiceLinesAreSkippedAndCounted) {
  const std::string text =
      "good1 1/tcp\n"
      "noport\n"                               // missing field
      "slashless 80\n"                         // no /proto
      "emptyport /tcp\n"                       // no port
      "emptyproto 80/\n"                       // no proto
      "alpha x80/tcp\n"                        // non-numeric
      "signed +80/tcp\n"                       // signs are not digits
      "negative -1/tcp\n"                      // likewise
      "toobig 65536/tcp\n"                     // above 65535
      "huge 99999999999999999999999999/tcp\n"  // would overflow any integer
      "twoslash 80/tcp/x\n"                    // a protocol is one word
      "good2 65535/udp a b\n"                  // the largest port is fine
      "good3 0/tcp\n";
  NetbaseDb db;
  EXPECT_EQ(db.ParseServices(text), 10);
  ASSERT_EQ(db.services().size(), 3u);
  EXPECT_EQ(db.services()[0].name, "good1");
  EXPECT_EQ(db.services()[1].port, 65535);
  EXPECT_EQ(db.services()[1].aliases, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(db.services()[2].port, 0);
}

TEST(NetbaseParse, MalformedProtocolLinesAreSkippedAndCounted) {
  NetbaseDb db;
  EXPECT_EQ(db.ParseProtocols("alone\nbig 256\nalpha six\nneg -1\nfrac 1.5\nok 255 OK\n"), 5);
  ASSERT_EQ(db.protocols().size(), 1u);
  EXPECT_EQ(db.protocols()[0].number, 255);
  EXPECT_EQ(db.protocols()[0].aliases, std::vector<std::string>{"OK"});
}

TEST(NetbaseParse, CommentsBlankLinesAndSeparators) {
  const std::string text =
      "# comment only\n"
      "\n"
      "   \t  \n"
      "   # indented comment\n"
      "a\t\t1/tcp\t\talias1 # trailing\n"
      "b 2/tcp#glued comment\n"
      "  c   3/udp   x\ty  \n"
      "d 4/tcp\r\n"  // CRLF
      "e 5/tcp";     // no final newline
  NetbaseDb db;
  EXPECT_EQ(db.ParseServices(text), 0);
  ASSERT_EQ(db.services().size(), 5u);
  EXPECT_EQ(db.services()[0].aliases, std::vector<std::string>{"alias1"});
  EXPECT_EQ(db.services()[1].proto, "tcp");
  EXPECT_TRUE(db.services()[1].aliases.empty());
  EXPECT_EQ(db.services()[2].name, "c");
  EXPECT_EQ(db.services()[2].aliases, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(db.services()[3].proto, "tcp");  // the CR is a separator, not part of the proto
  EXPECT_EQ(db.services()[4].port, 5);
}

TEST(NetbaseParse, LinesOverTheLimitAndNulBytesAreMalformed) {
  const std::string at_limit = "long 9/tcp " + std::string(4096 - 11, 'a');
  ASSERT_EQ(at_limit.size(), 4096u);
  const std::string over = at_limit + "a";
  const std::string long_comment = "# " + std::string(5000, 'c');
  std::string nul_line = "nul 7/tcp";
  nul_line[3] = '\0';
  std::string nul_in_comment = "x 8/tcp # a";
  nul_in_comment.back() = '\0';
  const std::string text = at_limit + "\n" + over + "\n" + long_comment + "\n" + nul_line + "\n" +
                           nul_in_comment + "\nafter 10/tcp\n";
  NetbaseDb db;
  EXPECT_EQ(db.ParseServices(text), 4);
  ASSERT_EQ(db.services().size(), 2u);
  EXPECT_EQ(db.services()[0].aliases.front().size(), 4096u - 11);
  EXPECT_EQ(db.services()[1].name, "after");
}

TEST(NetbaseParse, EmptyInputAndParseReplacesContents) {
  NetbaseDb db;
  EXPECT_EQ(db.ParseServices(""), 0);
  EXPECT_TRUE(db.services().empty());
  EXPECT_EQ(db.ParseServices("a 1/tcp\nb 2/tcp\n"), 0);
  EXPECT_EQ(db.ParseServices("c 3/tcp\n"), 0);
  ASSERT_EQ(db.services().size(), 1u);
  EXPECT_EQ(db.FindServiceByName("a", nullptr), nullptr);
  EXPECT_EQ(db.ParseProtocols("p 1\n"), 0);
  EXPECT_EQ(db.services().size(), 1u) << "parsing protocols must leave services alone";
  EXPECT_EQ(db.ParseServices("\n\n\n"), 0);
  EXPECT_TRUE(db.services().empty());
}

bool HasSeparatorOrNul(const std::string& s) {
  return s.empty() || s.find_first_of(std::string(" \t\r\v\f\n#\0", 8)) != std::string::npos;
}

// Arbitrary bytes never crash, and what survives obeys the entry invariants.
TEST(NetbaseParse, RandomBytesNeverCrashAndEntriesAreSane) {
  const std::string alphabet = std::string("0123456789/#tcpudp \t\r\n\xff", 24) + '\0';
  for (unsigned seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    std::string text(rng() % 6000, '\0');
    for (char& c : text) {
      c = (seed % 2 == 0) ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()];
    }
    NetbaseDb db;
    const int bad_services = db.ParseServices(text);
    const int bad_protocols = db.ParseProtocols(text);
    EXPECT_GE(bad_services, 0);
    EXPECT_GE(bad_protocols, 0);
    for (const ServiceEntry& e : db.services()) {
      ASSERT_GE(e.port, 0);
      ASSERT_LE(e.port, 65535);
      ASSERT_FALSE(HasSeparatorOrNul(e.name));
      ASSERT_FALSE(HasSeparatorOrNul(e.proto));
      for (const std::string& a : e.aliases) ASSERT_FALSE(HasSeparatorOrNul(a));
      const ServiceEntry* found = db.FindServiceByName(e.name.c_str(), e.proto.c_str());
      ASSERT_NE(found, nullptr);
      ASSERT_LE(found, &e);  // the first match, which may be an earlier line's alias
    }
    for (const ProtocolEntry& e : db.protocols()) {
      ASSERT_GE(e.number, 0);
      ASSERT_LE(e.number, 255);
      ASSERT_FALSE(HasSeparatorOrNul(e.name));
    }
  }
}

TEST(NetbaseParse, LineCountingIsExactOnMixedGarbage) {
  std::string text;
  for (int i = 0; i < 1000; ++i) {
    text += (i % 3 == 0) ? "s" + std::to_string(i) + " " + std::to_string(i) + "/tcp\n"
                         : std::string(1, static_cast<char>(0x80 + i % 64)) + "\n";
  }
  NetbaseDb db;
  EXPECT_EQ(db.ParseServices(text), 666);  // a lone high byte is a one-field line
  EXPECT_EQ(db.services().size(), 334u);
  EXPECT_EQ(db.FindServiceByPort(999, "tcp")->name, "s999");
}

// ---- ReadSmallFile ---------------------------------------------------------------------------

class NetbaseFile : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TMPDIR");
    path_ = std::string(tmp != nullptr && tmp[0] != '\0' ? tmp : "/tmp") + "/netbase_XXXXXX";
    const int fd = mkstemp(path_.data());
    ASSERT_GE(fd, 0);
    fd_ = fd;
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
  }
  void Resize(off_t size) { ASSERT_EQ(ftruncate(fd_, size), 0); }

  std::string path_;
  int fd_ = -1;
};

TEST_F(NetbaseFile, ReadsWholeFileUpTo16MiB) {
  const std::string content = std::string("x 1/tcp\n") + '\0' + "tail";
  ASSERT_EQ(write(fd_, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  std::string out, error;
  ASSERT_TRUE(ReadSmallFile(path_, &out, &error)) << error;
  EXPECT_EQ(out, content);  // embedded NULs survive: the parser, not the reader, judges them

  Resize(16 << 20);
  ASSERT_TRUE(ReadSmallFile(path_, &out, &error)) << error;
  EXPECT_EQ(out.size(), std::size_t{16} << 20);
}

TEST_F(NetbaseFile, RefusesFilesOver16MiBAndLeavesOutputAlone) {
  Resize((16 << 20) + 1);
  std::string out = "unchanged", error;
  EXPECT_FALSE(ReadSmallFile(path_, &out, &error));
  EXPECT_NE(error.find("16 MiB"), std::string::npos) << error;
  EXPECT_EQ(out, "unchanged");
}

TEST(NetbaseReadSmallFile, ReportsErrnoText) {
  std::string out, error;
  EXPECT_FALSE(ReadSmallFile("/nonexistent/wsafault/services", &out, &error));
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
  EXPECT_NE(error.find("/nonexistent/wsafault/services"), std::string::npos) << error;
  EXPECT_FALSE(ReadSmallFile(WSAF_SOURCE_DIR, &out, &error));  // a directory
  EXPECT_NE(error.find("directory"), std::string::npos) << error;
  EXPECT_FALSE(ReadSmallFile(WSAF_SOURCE_DIR "/corpus/netbase/services", nullptr, nullptr));
}

}  // namespace
}  // namespace wsaf

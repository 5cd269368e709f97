// The access rules: parsing, the classes requests fall into, and who each rule lets through.
// The table of real users and processes is tests/integration/access_test.py.
#include "server/access.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/startup_error.hpp"
#include "common/unique_fd.hpp"

namespace tapestream::server {
namespace {

constexpr gid_t tape = 26;
constexpr gid_t backup = 34;
constexpr uid_t alice = 1001;
constexpr uid_t bob = 1002;

NameLookup fake_names() {
  return {[](const std::string& name) -> std::optional<uid_t> {
            if (name == "alice") return alice;
            if (name == "bob") return bob;
            return std::nullopt;
          },
          [](const std::string& name) -> std::optional<gid_t> {
            if (name == "tape") return tape;
            if (name == "backup") return backup;
            return std::nullopt;
          }};
}

AccessPolicy policy(std::initializer_list<const char*> rules) {
  AccessPolicy p{tape};
  for (const auto* rule : rules) {
    p.add(parse_access_rule(rule, fake_names()));
  }
  return p;
}

bool may(const AccessPolicy& p, const Peer& peer, AccessClass access, const std::string& drive = "lto1") {
  return !p.refusal(peer, access, drive).has_value();
}

TEST(AccessTest, TheDefaultIsRootAndGroupTapeEverythingOthersNothing) {
  const AccessPolicy p{tape};
  const Peer root{0, 0, {}};
  const Peer in_tape{alice, 100, {tape}};
  const Peer primary_tape{alice, tape, {}};
  const Peer outsider{bob, 100, {backup}};
  for (std::size_t c = 0; c < access_class_count; ++c) {
    const auto access = static_cast<AccessClass>(c);
    EXPECT_TRUE(may(p, root, access)) << access_class_name(access);
    EXPECT_TRUE(may(p, in_tape, access)) << access_class_name(access);
    EXPECT_TRUE(may(p, primary_tape, access)) << access_class_name(access);
    EXPECT_FALSE(may(p, outsider, access)) << access_class_name(access);
  }
  const auto why = p.refusal(outsider, AccessClass::destroy, "lto1");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("uid 1002 may not destroy on drive lto1"), std::string::npos) << *why;
  EXPECT_NE(why->find("default rule"), std::string::npos) << *why;
}

TEST(AccessTest, WithoutAGroupTapeOnlyRootIsAllowedByDefault) {
  const AccessPolicy p{std::nullopt};
  EXPECT_TRUE(may(p, Peer{0, 0, {}}, AccessClass::destroy));
  EXPECT_FALSE(may(p, Peer{alice, tape, {tape}}, AccessClass::status));
  const auto why = p.refusal(Peer{alice, tape, {tape}}, AccessClass::status, "");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("only root may (this system has no group tape)"), std::string::npos) << *why;
}

TEST(AccessTest, APeerLeftUnfilledIsNobodyNotRoot) {
  EXPECT_FALSE(may(AccessPolicy{tape}, Peer{}, AccessClass::status));
}

TEST(AccessTest, ALongRuleIsQuotedCutAtACharacterBoundary) {
  // A rule's text of two-byte characters (é), shifted by 0 to 3 ASCII bytes, so that the cut
  // at the quoting limit falls both on and inside a character.
  for (int shift = 0; shift < 4; ++shift) {
    auto rule = parse_access_rule("read: user:alice", fake_names());
    rule.text = std::string(static_cast<std::size_t>(shift), 'x');
    for (int i = 0; i < 400; ++i) {
      rule.text += "\xC3\xA9";
    }
    AccessPolicy p{tape};
    p.add(std::move(rule));
    const auto why = p.refusal(Peer{bob, 100, {}}, AccessClass::read, "");
    ASSERT_TRUE(why);
    const auto cut = why->rfind("...");
    ASSERT_NE(cut, std::string::npos);
    EXPECT_NE(static_cast<unsigned char>((*why)[cut - 1]), 0xC3) << "a character cut in two, shift " << shift;
  }
}

TEST(AccessTest, ARuleReplacesTheDefaultOfItsClassOnly) {
  const auto p = policy({"destroy: user:alice"});
  const Peer in_tape{bob, 100, {tape}};
  EXPECT_FALSE(may(p, in_tape, AccessClass::destroy));
  EXPECT_TRUE(may(p, in_tape, AccessClass::write));  // still the default
  EXPECT_TRUE(may(p, Peer{alice, 100, {}}, AccessClass::destroy));
  EXPECT_FALSE(may(p, Peer{alice, 100, {}}, AccessClass::write));
  const auto why = p.refusal(in_tape, AccessClass::destroy, "lto1");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("\"allow = destroy: user:alice\""), std::string::npos) << *why;
}

TEST(AccessTest, RulesOfOneClassAddUp) {
  const auto p = policy({"read: group:backup", "read: uid:1001"});
  EXPECT_TRUE(may(p, Peer{bob, 100, {backup}}, AccessClass::read));
  EXPECT_TRUE(may(p, Peer{alice, 100, {}}, AccessClass::read));
  EXPECT_FALSE(may(p, Peer{1003, 100, {tape}}, AccessClass::read));
}

TEST(AccessTest, ADriveRuleReplacesTheGeneralRulesOnThatDriveOnly) {
  const auto p = policy({"write: group:backup", "write@lto2: user:bob"});
  const Peer backup_user{alice, 100, {backup}};
  EXPECT_TRUE(may(p, backup_user, AccessClass::write, "lto1"));
  EXPECT_FALSE(may(p, backup_user, AccessClass::write, "lto2"));
  EXPECT_TRUE(may(p, Peer{bob, 100, {}}, AccessClass::write, "lto2"));
  EXPECT_FALSE(may(p, Peer{bob, 100, {}}, AccessClass::write, "lto1"));
  EXPECT_EQ(p.drives_named(), std::vector<std::string>{"lto2"});
}

TEST(AccessTest, AllAndSeveralClassesAndEveryone) {
  const auto p = policy({"status,\tread: everyone", "all@lto9: gid:34"});
  const Peer anyone{4242, 4242, {}};
  EXPECT_TRUE(may(p, anyone, AccessClass::status));
  EXPECT_TRUE(may(p, anyone, AccessClass::read));
  EXPECT_FALSE(may(p, anyone, AccessClass::write));
  EXPECT_TRUE(may(p, Peer{4242, 34, {}}, AccessClass::destroy, "lto9"));
  EXPECT_FALSE(may(p, anyone, AccessClass::status, "lto9"));
}

// What the daemon logs at start: one line a class, each rule's WHO once (the class is not
// repeated from the rule's text).
TEST(AccessTest, TheDescriptionNamesEachClassOnce) {
  const auto p = policy({"write: uid:2001 group:backup", "write@lto2: user:bob"});
  const auto lines = p.describe();
  ASSERT_EQ(lines.size(), 5U);
  EXPECT_EQ(lines[0], "status: root and group tape (the default)");
  EXPECT_EQ(lines[1], "read: root and group tape (the default)");
  EXPECT_EQ(lines[2], "write: uid:2001 group:backup; on lto2: user:bob");
}

TEST(AccessTest, RootMayAlwaysDoEverything) {
  const auto p = policy({"all: user:alice"});
  EXPECT_TRUE(may(p, Peer{0, 0, {}}, AccessClass::destroy));
}

TEST(AccessTest, MalformedRulesAreConfigurationErrorsThatSayWhy) {
  const auto names = fake_names();
  const std::vector<std::pair<std::string, std::string>> cases{
      {"destroy user:alice", "no \":\""},
      {"wipe: user:alice", "\"wipe\" is not a class"},
      {": user:alice", "no class"},
      {"read:", "nobody is named"},
      {"read: user:mallory", "no user \"mallory\""},
      {"read: group:wheel", "no group \"wheel\""},
      {"read: uid:x1", "not a number"},
      {"read: uid:4294967295", "not a number"},
      {"read: user:", "names nobody"},
      {"read: host:alice", "not a user or a group"},
      {"read@: user:alice", "is not a drive name"},
      {"read@a/b: user:alice", "is not a drive name"},
  };
  for (const auto& [rule, expected] : cases) {
    try {
      (void)parse_access_rule(rule, names);
      ADD_FAILURE() << rule << ": accepted";
    } catch (const StartupError& e) {
      EXPECT_NE(std::string{e.what()}.find(expected), std::string::npos) << rule << ": " << e.what();
    }
  }
}

TEST(AccessTest, RequestsFallIntoTheirClasses) {
  EXPECT_EQ(access_class_of(proto::ListDrives{}), AccessClass::status);
  EXPECT_EQ(access_class_of(proto::StatusRequest{"lto1"}), AccessClass::status);
  EXPECT_EQ(access_class_of(proto::ReadRequest{}), AccessClass::read);
  // Verify takes the drive and moves the tape as a read does; a rebuild also supersedes the
  // catalog's rows, whose names and owners only the catalog may know: write.
  EXPECT_EQ(access_class_of(proto::VerifyRequest{}), AccessClass::read);
  EXPECT_EQ(access_class_of(proto::CatalogRebuild{}), AccessClass::write);
  EXPECT_EQ(drive_named_by(proto::VerifyRequest{0, 0, "lto1"}), "lto1");
  EXPECT_EQ(drive_named_by(proto::CatalogRebuild{0, "lto1"}), "lto1");
  proto::WriteRequest append;
  append.flags = TS_WRITE_APPEND;
  EXPECT_EQ(access_class_of(append), AccessClass::write);
  EXPECT_EQ(access_class_of(proto::WriteRequest{}), AccessClass::destroy);
  auto control = [](proto::ControlOp op) {
    proto::ControlRequest c;
    c.op = op;
    return access_class_of(c);
  };
  EXPECT_EQ(control(proto::ControlOp::tell), AccessClass::status);
  for (auto op : {proto::ControlOp::rewind, proto::ControlOp::load, proto::ControlOp::eject,
                  proto::ControlOp::fsf, proto::ControlOp::bsf, proto::ControlOp::fsr,
                  proto::ControlOp::bsr, proto::ControlOp::eod, proto::ControlOp::seek}) {
    EXPECT_EQ(control(op), AccessClass::position) << static_cast<int>(op);
  }
  for (auto op : {proto::ControlOp::weof, proto::ControlOp::erase, proto::ControlOp::setblk,
                  proto::ControlOp::compression}) {
    EXPECT_EQ(control(op), AccessClass::destroy) << static_cast<int>(op);
  }
  EXPECT_EQ(access_class_of(proto::Hello{}), std::nullopt);
  EXPECT_EQ(access_class_of(proto::End{}), std::nullopt);
}

// A library's elements are status; a move takes a cartridge from a drive or a slot: write, on
// the drive it names (a transfer between slots names none: the general rules decide).
TEST(AccessTest, ChangerRequestsFallIntoTheirClasses) {
  EXPECT_EQ(access_class_of(proto::ChangerStatus{"lib0"}), AccessClass::status);
  EXPECT_EQ(drive_named_by(proto::ChangerStatus{"lib0"}), "");
  const proto::ChangerMove load{TS_CHANGER_LOAD, 1, 0, "lib0", "la"};
  EXPECT_EQ(access_class_of(load), AccessClass::write);
  EXPECT_EQ(drive_named_by(load), "la");
  const proto::ChangerMove transfer{TS_CHANGER_TRANSFER, 1, 2, "lib0", ""};
  EXPECT_EQ(access_class_of(transfer), AccessClass::write);
  EXPECT_EQ(drive_named_by(transfer), "");
}

TEST(AccessTest, PeerCredentialsComeFromTheKernel) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  const UniqueFd a{sv[0]};
  const UniqueFd b{sv[1]};
  const auto peer = peer_of(a.get());
  ASSERT_TRUE(peer);
  EXPECT_EQ(peer->uid, ::getuid());
  EXPECT_EQ(peer->gid, ::getgid());
  std::vector<gid_t> mine(static_cast<std::size_t>(::getgroups(0, nullptr)));
  mine.resize(static_cast<std::size_t>(::getgroups(static_cast<int>(mine.size()), mine.data())));
  EXPECT_EQ(peer->groups.size(), mine.size());
  EXPECT_FALSE(peer_of(-1).has_value());
}

}  // namespace
}  // namespace tapestream::server

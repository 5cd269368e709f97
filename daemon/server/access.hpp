// Who may do what: the daemon's access rules, decided from the peer credentials the kernel
// gives for every connection (SO_PEERCRED and SO_PEERGROUPS), never from anything the client
// says. Operations fall into five classes by what they can cost the tape's owner:
//
//   status    LIST_DRIVES, STATUS, CONTROL tell           (nothing)
//   read      READ, VERIFY, CATALOG_REBUILD               (the data, the drive's time; a READ
//                                                          of file N moves the tape there)
//   write     WRITE at the end of data (append)           (capacity)
//   position  rewind, load, eject, fsf, bsf, fsr, bsr, eod, seek
//                                                         (another stream's place on the tape)
//   destroy   WRITE where the tape stands, erase, weof, setblk, compression
//                                                         (data after the place written, or how
//                                                          the next stream is written)
//
// A rule `allow = CLASS[@DRIVE]: WHO...` grants a class (or `all`) to users and groups. The
// rules of a class for a drive are those that name the drive, if any do, else the general
// ones; a class no rule grants keeps the default, root and group `tape`. uid 0 may always do
// everything: it can open the devices and the images directly anyway. The rules are fixed at
// start-up (names are resolved then) and read by every thread without locks.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "codec.hpp"

namespace tapestream::server {

enum class AccessClass { status, read, write, position, destroy };
inline constexpr std::size_t access_class_count = 5;

// "status", "read", ...
const char* access_class_name(AccessClass access);

// The class a request falls into; nullopt for the requests everyone may send (HELLO, and the
// frames of a stream already permitted).
std::optional<AccessClass> access_class_of(const proto::Message& message);

// The drive a request names, as the client wrote it ("" for none).
std::string drive_named_by(const proto::Message& message);

// A connection's credentials, as the kernel reported them when it connected. The defaults are
// nobody's (not root's), so a Peer left unfilled is refused, not let through.
struct Peer {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  std::vector<gid_t> groups;  // supplementary groups (SO_PEERGROUPS), the primary one aside
};

// Reads SO_PEERCRED and SO_PEERGROUPS of a connected Unix socket; nullopt (errno set) if the
// kernel does not say.
std::optional<Peer> peer_of(int socket_fd);

struct Principal {
  enum class Kind { user, group, everyone };
  Kind kind = Kind::everyone;
  std::uint32_t id = 0;  // uid or gid
};

struct AccessRule {
  std::vector<AccessClass> classes;
  std::optional<std::string> drive;  // nullopt: every drive
  std::vector<Principal> who;
  std::string text;  // as the configuration wrote it, for the refusal message
};

// Name lookups, so that tests need no accounts; the default asks the system (NSS). nullopt:
// no such name; a lookup that fails throws StartupError.
struct NameLookup {
  std::function<std::optional<uid_t>(const std::string&)> user;
  std::function<std::optional<gid_t>(const std::string&)> group;
};
NameLookup system_names();

// "CLASS[@DRIVE]: WHO [WHO ...]"; throws StartupError saying what is wrong and what is allowed.
AccessRule parse_access_rule(const std::string& text, const NameLookup& names);

class AccessPolicy {
 public:
  // `tape_group`: the default rule's group (nullopt where the system has no group `tape`:
  // then only root is allowed by default).
  explicit AccessPolicy(std::optional<gid_t> tape_group = std::nullopt);
  void add(AccessRule rule);

  // nullopt if `peer` may do `access` on `drive` (empty for requests naming none); otherwise
  // why not, naming the rule that decided.
  std::optional<std::string> refusal(const Peer& peer, AccessClass access,
                                     const std::string& drive) const;
  // The drives the rules name, so that start-up can check they exist.
  std::vector<std::string> drives_named() const;
  // One line per class for the start-up log: who may do it.
  std::vector<std::string> describe() const;

 private:
  std::vector<const AccessRule*> rules_for(AccessClass access, const std::string& drive) const;

  std::optional<gid_t> _tape_group;
  std::vector<AccessRule> _rules;
};

}  // namespace tapestream::server

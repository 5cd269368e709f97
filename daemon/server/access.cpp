#include "server/access.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <variant>

#include "base/startup_error.hpp"

namespace tapestream::server {
namespace {

constexpr std::array<const char*, access_class_count> class_names{"status", "read", "write",
                                                                  "position", "destroy"};
// What a refusal says the client may not do.
constexpr std::array<const char*, access_class_count> class_verbs{
    "ask for status", "read", "write", "move the tape", "destroy"};
// A refusal quotes its rule; a rule longer than this is cut, so the ERROR stays within its
// message limit.
constexpr std::size_t quoted_rule_limit = 300;
constexpr const char* rule_syntax =
    "expected \"CLASS[@DRIVE]: WHO [WHO ...]\", where CLASS is status, read, write, position, "
    "destroy or all (or several, separated by commas) and WHO is user:NAME, uid:N, "
    "group:NAME, gid:N or everyone";

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

std::vector<std::string_view> split(std::string_view text, std::string_view separators) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    const auto end = text.find_first_of(separators);
    if (end != 0) {
      parts.push_back(text.substr(0, end));
    }
    if (end == std::string_view::npos) {
      break;
    }
    text.remove_prefix(end + 1);
  }
  return parts;
}

[[noreturn]] void bad_rule(const std::string& text, const std::string& why) {
  throw StartupError{"allow rule \"" + text + "\": " + why + "; " + rule_syntax};
}

std::optional<std::uint32_t> number(std::string_view text) {
  std::uint32_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

Principal principal(const std::string& rule, std::string_view word, const NameLookup& names) {
  if (word == "everyone") {
    return {Principal::Kind::everyone, 0};
  }
  const auto colon = word.find(':');
  const auto kind = word.substr(0, colon);
  const auto value = colon == std::string_view::npos ? std::string_view{} : word.substr(colon + 1);
  if (value.empty()) {
    bad_rule(rule, "\"" + std::string{word} + "\" names nobody");
  }
  if (kind == "uid" || kind == "gid") {
    const auto id = number(value);
    if (!id || *id == static_cast<std::uint32_t>(-1)) {
      bad_rule(rule, "\"" + std::string{word} + "\" is not a number");
    }
    return {kind == "uid" ? Principal::Kind::user : Principal::Kind::group, *id};
  }
  const std::string name{value};
  if (kind == "user") {
    const auto uid = names.user(name);
    if (!uid) {
      bad_rule(rule, "there is no user \"" + name + "\" on this system");
    }
    return {Principal::Kind::user, *uid};
  }
  if (kind == "group") {
    const auto gid = names.group(name);
    if (!gid) {
      bad_rule(rule, "there is no group \"" + name + "\" on this system");
    }
    return {Principal::Kind::group, *gid};
  }
  bad_rule(rule, "\"" + std::string{word} + "\" is not a user or a group");
}

bool names(const Peer& peer, const Principal& who) {
  switch (who.kind) {
    case Principal::Kind::everyone:
      return true;
    case Principal::Kind::user:
      return peer.uid == who.id;
    case Principal::Kind::group:
      return peer.gid == who.id ||
             std::find(peer.groups.begin(), peer.groups.end(), who.id) != peer.groups.end();
  }
  return false;
}

bool has_class(const AccessRule& rule, AccessClass access) {
  return std::find(rule.classes.begin(), rule.classes.end(), access) != rule.classes.end();
}

}  // namespace

const char* access_class_name(AccessClass access) {
  return class_names.at(static_cast<std::size_t>(access));
}

AccessClass control_class(proto::ControlOp op) {
  switch (op) {
    case proto::ControlOp::tell:
      return AccessClass::status;
    case proto::ControlOp::rewind:
    case proto::ControlOp::load:
    case proto::ControlOp::eject:
    case proto::ControlOp::fsf:
    case proto::ControlOp::bsf:
    case proto::ControlOp::fsr:
    case proto::ControlOp::bsr:
    case proto::ControlOp::eod:
    case proto::ControlOp::seek:
      return AccessClass::position;
    case proto::ControlOp::weof:  // a filemark where the tape stands ends the tape there
    case proto::ControlOp::erase:
    case proto::ControlOp::setblk:
    case proto::ControlOp::compression:
      return AccessClass::destroy;
  }
  return AccessClass::destroy;  // an operation added later is the most guarded until classed
}

std::optional<AccessClass> access_class_of(const proto::Message& message) {
  // A message type added to the protocol must be classed here before this compiles again.
  static_assert(std::variant_size_v<proto::Message> == 36);
  return std::visit(
      [](const auto& m) -> std::optional<AccessClass> {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, proto::ListDrives> ||
                      std::is_same_v<T, proto::StatusRequest> ||
                      std::is_same_v<T, proto::ListFiles> ||
                      std::is_same_v<T, proto::ChangerStatus>) {
          return AccessClass::status;
        } else if constexpr (std::is_same_v<T, proto::ChangerMove>) {
          // A move takes a cartridge out of a drive or a slot: what a writer may do to a tape.
          return AccessClass::write;
        } else if constexpr (std::is_same_v<T, proto::ReadRequest> ||
                             std::is_same_v<T, proto::VerifyRequest>) {
          return AccessClass::read;
        } else if constexpr (std::is_same_v<T, proto::CatalogRebuild>) {
          // A rebuild supersedes every row of the volume, with the names and owners only the
          // catalog knew on a plain tape: a reader may not do that.
          return AccessClass::write;
        } else if constexpr (std::is_same_v<T, proto::WriteRequest>) {
          // Written where the tape stands, a stream ends the tape there: what followed is lost.
          // A spanning stream loads scratch volumes, which a writer may move (CHANGER_MOVE).
          return (m.flags & TS_WRITE_APPEND) != 0 ? AccessClass::write : AccessClass::destroy;
        } else if constexpr (std::is_same_v<T, proto::ControlRequest>) {
          return control_class(m.op);
        } else if constexpr (std::is_same_v<T, proto::LabelRequest>) {
          // A label on a blank tape destroys nothing; with FORCE over data, the job asks for
          // `destroy` too once it has seen that the tape holds data.
          return AccessClass::write;
        } else if constexpr (std::is_same_v<T, proto::Hello> || std::is_same_v<T, proto::Data> ||
                             std::is_same_v<T, proto::End> || std::is_same_v<T, proto::Abort> ||
                             std::is_same_v<T, proto::Submit> ||
                             std::is_same_v<T, proto::SlotReturn>) {
          return std::nullopt;  // HELLO, and the frames of a stream already permitted
        } else {
          return AccessClass::destroy;  // replies: the codec never lets one reach the daemon
        }
      },
      message);
}

std::string drive_named_by(const proto::Message& message) {
  return std::visit(
      [](const auto& m) -> std::string {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, proto::StatusRequest> ||
                      std::is_same_v<T, proto::WriteRequest> ||
                      std::is_same_v<T, proto::ReadRequest> ||
                      std::is_same_v<T, proto::VerifyRequest> ||
                      std::is_same_v<T, proto::CatalogRebuild> ||
                      std::is_same_v<T, proto::ControlRequest> ||
                      std::is_same_v<T, proto::ListFiles> ||
                      std::is_same_v<T, proto::LabelRequest> ||
                      std::is_same_v<T, proto::ChangerMove>) {
          return m.drive;
        } else {
          return {};
        }
      },
      message);
}

std::optional<Peer> peer_of(int socket_fd) {
  ucred credentials{};
  socklen_t size = sizeof credentials;
  if (::getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0) {
    return std::nullopt;
  }
  Peer peer{credentials.uid, credentials.gid, {}};
  // The kernel says how much room the list needs when it does not fit; the list of a peer
  // that changes its groups meanwhile is what it was at connect() anyway.
  peer.groups.resize(32);
  for (int attempt = 0; attempt < 2; ++attempt) {
    size = static_cast<socklen_t>(peer.groups.size() * sizeof(gid_t));
    if (::getsockopt(socket_fd, SOL_SOCKET, SO_PEERGROUPS, peer.groups.data(), &size) == 0) {
      peer.groups.resize(size / sizeof(gid_t));
      return peer;
    }
    if (errno != ERANGE) {
      return std::nullopt;
    }
    peer.groups.resize(size / sizeof(gid_t));
  }
  return std::nullopt;
}

namespace {

// getpwnam_r/getgrnam_r with a buffer grown until the entry fits (a group with thousands of
// members does not fit the usual 16 KiB). nullopt: there is no such name; a lookup that fails
// otherwise (ERANGE at 16 MiB, EIO, an NSS source that does not answer) is an error, never
// "no such name".
template <typename Entry, typename Id>
std::optional<Id> look_up(const std::string& name, const char* kind,
                          int (*lookup)(const char*, Entry*, char*, std::size_t, Entry**),
                          Id Entry::*id) {
  std::vector<char> buffer(16384);
  while (true) {
    Entry entry{};
    Entry* found = nullptr;
    const int error = lookup(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    // glibc also says "not found" with these (getgrnam_r(3)): ENOENT, for one, where the
    // system has no /etc/group at all.
    if (error == 0 || error == ENOENT || error == ESRCH || error == EBADF || error == EPERM) {
      return found == nullptr ? std::nullopt : std::optional<Id>{found->*id};
    }
    if (error == ERANGE && buffer.size() < (16U << 20)) {
      buffer.resize(buffer.size() * 4);
      continue;
    }
    throw StartupError{std::string{"cannot look up the "} + kind + " \"" + name +
                       "\": " + std::strerror(error)};
  }
}

}  // namespace

NameLookup system_names() {
  return {
      [](const std::string& name) { return look_up(name, "user", ::getpwnam_r, &passwd::pw_uid); },
      [](const std::string& name) { return look_up(name, "group", ::getgrnam_r, &group::gr_gid); },
  };
}

AccessRule parse_access_rule(const std::string& text, const NameLookup& names) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    bad_rule(text, "no \":\" after the class");
  }
  AccessRule rule;
  rule.text = std::string{trimmed(text)};
  auto scope = trimmed(std::string_view{text}.substr(0, colon));
  if (const auto at = scope.find('@'); at != std::string_view::npos) {
    const auto drive = std::string{trimmed(scope.substr(at + 1))};
    if (!proto::valid_drive_name(drive)) {
      bad_rule(text, "\"" + drive + "\" is not a drive name (letters, digits, . _ -; 1 to 32)");
    }
    rule.drive = drive;
    scope = trimmed(scope.substr(0, at));
  }
  for (const auto word : split(scope, ", \t")) {
    if (word == "all") {
      for (std::size_t c = 0; c < access_class_count; ++c) {
        rule.classes.push_back(static_cast<AccessClass>(c));
      }
      continue;
    }
    const auto known = std::find(class_names.begin(), class_names.end(), word);
    if (word == "user" || word == "uid" || word == "group" || word == "gid" || word == "everyone") {
      bad_rule(text, "no \":\" after the class");
    }
    if (known == class_names.end()) {
      bad_rule(text, "\"" + std::string{word} + "\" is not a class");
    }
    rule.classes.push_back(static_cast<AccessClass>(known - class_names.begin()));
  }
  if (rule.classes.empty()) {
    bad_rule(text, "no class");
  }
  for (const auto word : split(std::string_view{text}.substr(colon + 1), ", \t")) {
    rule.who.push_back(principal(text, word, names));
  }
  if (rule.who.empty()) {
    bad_rule(text, "nobody is named after the \":\"");
  }
  return rule;
}

AccessPolicy::AccessPolicy(std::optional<gid_t> tape_group) : _tape_group{tape_group} {}

void AccessPolicy::add(AccessRule rule) { _rules.push_back(std::move(rule)); }

std::vector<const AccessRule*> AccessPolicy::rules_for(AccessClass access,
                                                             const std::string& drive) const {
  std::vector<const AccessRule*> general;
  std::vector<const AccessRule*> for_drive;
  for (const auto& rule : _rules) {
    if (!has_class(rule, access)) {
      continue;
    }
    if (!rule.drive) {
      general.push_back(&rule);
    } else if (*rule.drive == drive) {
      for_drive.push_back(&rule);
    }
  }
  return for_drive.empty() ? general : for_drive;
}

std::optional<std::string> AccessPolicy::refusal(const Peer& peer, AccessClass access,
                                                 const std::string& drive) const {
  if (peer.uid == 0) {
    return std::nullopt;
  }
  const auto rules = rules_for(access, drive);
  std::string why = "uid " + std::to_string(peer.uid) + " may not " +
                    class_verbs.at(static_cast<std::size_t>(access)) +
                    (drive.empty() ? std::string{} : " on drive " + drive);
  if (rules.empty()) {
    if (_tape_group && names(peer, {Principal::Kind::group, *_tape_group})) {
      return std::nullopt;
    }
    return why + ": by the default rule only root" +
           (_tape_group ? " and group tape may" : " may (this system has no group tape)") +
           " (an \"allow = " + access_class_name(access) +
           ": ...\" line in the daemon's configuration changes that)";
  }
  for (const auto* rule : rules) {
    if (std::any_of(rule->who.begin(), rule->who.end(),
                    [&](const Principal& who) { return names(peer, who); })) {
      return std::nullopt;
    }
  }
  std::string quoted;
  for (const auto* rule : rules) {
    quoted += (quoted.empty() ? "" : "; ") + std::string{"\"allow = "} + rule->text + "\"";
  }
  if (quoted.size() > quoted_rule_limit) {
    auto cut = quoted_rule_limit;
    while (cut > 0 && (static_cast<unsigned char>(quoted[cut]) & 0xC0) == 0x80) {
      --cut;  // not inside a UTF-8 sequence
    }
    quoted = quoted.substr(0, cut) + "...";
  }
  return why + ": the daemon's configuration allows it only by " + quoted;
}

std::vector<std::string> AccessPolicy::drives_named() const {
  std::vector<std::string> drives;
  for (const auto& rule : _rules) {
    if (rule.drive) {
      drives.push_back(*rule.drive);
    }
  }
  return drives;
}

namespace {

// The WHO part of a rule as written ("uid:2001 group:backup" of "write@lto1: uid:2001
// group:backup"): a line that names the class already would say it twice.
std::string who_text(const AccessRule& rule) {
  const auto colon = rule.text.find(':');
  const auto from = rule.text.find_first_not_of(" \t", colon == std::string::npos ? 0 : colon + 1);
  return from == std::string::npos ? rule.text : rule.text.substr(from);
}

}  // namespace

std::vector<std::string> AccessPolicy::describe() const {
  std::vector<std::string> lines;
  for (std::size_t c = 0; c < access_class_count; ++c) {
    const auto access = static_cast<AccessClass>(c);
    const auto general = rules_for(access, "");
    std::string line = std::string{access_class_name(access)} + ": ";
    if (general.empty()) {
      line += _tape_group ? "root and group tape (the default)" : "root only (no group tape)";
    } else {
      for (std::size_t i = 0; i < general.size(); ++i) {
        line += (i == 0 ? "" : "; ") + who_text(*general[i]);
      }
    }
    for (const auto& rule : _rules) {
      if (rule.drive && has_class(rule, access)) {
        line += "; on " + *rule.drive + ": " + who_text(rule);
      }
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace tapestream::server

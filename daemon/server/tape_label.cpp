#include "server/tape_label.hpp"

#include <sys/random.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <limits>
#include <system_error>
#include <nlohmann/json.hpp>

#include "codec.hpp"

namespace tapestream::server::tape_label {
namespace {

using Json = nlohmann::json;

// Text from a client or a drive may hold anything: cut to the limit on a character boundary
// (dump() replaces what is not UTF-8), so that a block stays within max_block.
constexpr std::size_t max_text = 255;

std::string cut(std::string_view text) {
  if (text.size() <= max_text) {
    return std::string{text};
  }
  std::size_t end = max_text;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return std::string{text.substr(0, end)};
}

std::string rfc3339(TimePoint when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 32> text{};
  const auto n = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return {text.data(), n};
}

// The form rfc3339() writes, with an optional fraction of a second (dropped): another writer of
// this format may keep one.
std::optional<TimePoint> parse_time(std::string_view text) {
  const auto number = [&text](std::size_t at, std::size_t digits, int& out) {
    if (at + digits > text.size()) {
      return false;
    }
    const auto* first = text.data() + at;
    const auto [end, error] = std::from_chars(first, first + digits, out);
    return error == std::errc{} && end == first + digits;
  };
  std::tm t{};
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':' || !number(0, 4, t.tm_year) ||
      !number(5, 2, t.tm_mon) || !number(8, 2, t.tm_mday) || !number(11, 2, t.tm_hour) ||
      !number(14, 2, t.tm_min) || !number(17, 2, t.tm_sec)) {
    return std::nullopt;
  }
  std::size_t at = 19;
  if (text[at] == '.') {
    ++at;
    const auto fraction_start = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      ++at;
    }
    if (at == fraction_start) {
      return std::nullopt;
    }
  }
  // Years a system_clock time point holds (about 1678 to 2262 in nanoseconds) and a tape can
  // have been written in.
  if (at + 1 != text.size() || text[at] != 'Z' || t.tm_year < 1970 || t.tm_year > 2200 ||
      t.tm_mon < 1 || t.tm_mon > 12 ||
      t.tm_mday < 1 || t.tm_mday > 31 || t.tm_hour > 23 || t.tm_min > 59 || t.tm_sec > 60) {
    return std::nullopt;
  }
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  const std::time_t seconds = timegm(&t);
  return std::chrono::system_clock::from_time_t(seconds);
}

std::optional<base::Sha256Digest> parse_digest(std::string_view hex) {
  base::Sha256Digest digest{};
  if (hex.size() != digest.size() * 2) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < digest.size(); ++i) {
    const auto* first = hex.data() + 2 * i;
    if (!std::isxdigit(static_cast<unsigned char>(first[0])) ||
        !std::isxdigit(static_cast<unsigned char>(first[1]))) {
      return std::nullopt;
    }
    std::from_chars(first, first + 2, digest[i], 16);
  }
  return digest;
}

bool valid_uuid(std::string_view text) {
  if (text.size() != 36) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

std::vector<std::uint8_t> block_of(const Json& object) {
  auto text = object.dump(-1, ' ', false, Json::error_handler_t::replace);
  text.push_back('\n');
  return {text.begin(), text.end()};
}

// The object in a block, when the block is one and of the kind asked; the trailing newline
// (and nothing else) may follow it.
std::optional<Json> object_of(std::span<const std::uint8_t> block, std::string_view kind) {
  if (block.empty() || block.size() > max_block) {
    return std::nullopt;
  }
  std::string_view text{reinterpret_cast<const char*>(block.data()), block.size()};
  if (text.back() == '\n') {
    text.remove_suffix(1);
  }
  auto object = Json::parse(text, nullptr, false);
  if (object.is_discarded() || !object.is_object()) {
    return std::nullopt;
  }
  const auto tag = object.find("tapestream");
  const auto version = object.find("format");
  if (tag == object.end() || !tag->is_string() || tag->get_ref<const std::string&>() != kind ||
      version == object.end() || !version->is_number_unsigned() ||
      version->get<std::uint64_t>() != format) {
    return std::nullopt;
  }
  return object;
}

// Field readers that leave `out` alone and say false when the key is missing or of another type.
bool take(const Json& object, const char* key, std::string& out, std::size_t limit = max_text) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string() || it->get_ref<const std::string&>().size() > limit) {
    return false;
  }
  out = it->get<std::string>();
  return true;
}

template <typename Unsigned>
bool take(const Json& object, const char* key, Unsigned& out) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number_unsigned()) {
    return false;
  }
  const auto value = it->get<std::uint64_t>();
  if (value > std::numeric_limits<Unsigned>::max()) {
    return false;
  }
  out = static_cast<Unsigned>(value);
  return true;
}

bool take_time(const Json& object, const char* key, TimePoint& out) {
  std::string text;
  if (!take(object, key, text, 64)) {
    return false;
  }
  const auto when = parse_time(text);
  if (when) {
    out = *when;
  }
  return when.has_value();
}

constexpr std::array<const char*, 3> status_names{"complete", "interrupted", "failed"};

}  // namespace

std::vector<std::uint8_t> encode(const VolumeLabel& volume) {
  Json object{{"tapestream", "volume"}, {"format", format},
              {"label", cut(volume.label)},  {"uuid", cut(volume.uuid)},
              {"created", rfc3339(volume.created)}, {"writer", cut(volume.writer)}};
  if (volume.medium_serial) {
    object["medium_serial"] = cut(*volume.medium_serial);
  }
  return block_of(object);
}

std::vector<std::uint8_t> encode(const Trailer& trailer) {
  Json object{{"tapestream", "file"},
              {"format", format},
              {"volume", cut(trailer.volume)},
              {"file", trailer.file},
              {"label", cut(trailer.label)},
              {"bytes", trailer.bytes},
              {"blocks", trailer.blocks},
              {"block_size", trailer.block_size},
              {"mode", trailer.fixed ? "fixed" : "variable"},
              {"padding", trailer.padding},
              {"started", rfc3339(trailer.started)},
              {"ended", rfc3339(trailer.ended)},
              {"uid", trailer.uid},
              {"status", status_names[static_cast<std::size_t>(trailer.status)]}};
  if (trailer.sha256) {
    object["sha256"] = base::to_hex(*trailer.sha256);
  } else if (trailer.status == TrailerStatus::complete) {
    object["sha256"] = "none";
  }
  return block_of(object);
}

std::optional<VolumeLabel> parse_volume_label(std::span<const std::uint8_t> block) {
  const auto object = object_of(block, "volume");
  VolumeLabel volume;
  if (!object || !take(*object, "label", volume.label, max_name) ||
      !take(*object, "uuid", volume.uuid) || !valid_uuid(volume.uuid) ||
      !take_time(*object, "created", volume.created)) {
    return std::nullopt;
  }
  take(*object, "writer", volume.writer);
  if (std::string serial; take(*object, "medium_serial", serial)) {
    volume.medium_serial = std::move(serial);
  }
  return volume;
}

std::optional<Trailer> parse_trailer(std::span<const std::uint8_t> block) {
  const auto object = object_of(block, "file");
  Trailer t;
  std::string mode;
  std::string status;
  if (!object || !take(*object, "volume", t.volume) || !valid_uuid(t.volume) ||
      !take(*object, "file", t.file) || !take(*object, "label", t.label) ||
      !take(*object, "bytes", t.bytes) || !take(*object, "blocks", t.blocks) ||
      !take(*object, "block_size", t.block_size) || !take(*object, "mode", mode) ||
      (mode != "fixed" && mode != "variable") || !take(*object, "padding", t.padding) ||
      !take_time(*object, "started", t.started) || !take_time(*object, "ended", t.ended) ||
      !take(*object, "uid", t.uid)) {
    return std::nullopt;
  }
  t.fixed = mode == "fixed";
  if (take(*object, "status", status)) {
    std::size_t i = 0;
    while (i < status_names.size() && status != status_names[i]) {
      ++i;
    }
    if (i == status_names.size()) {
      return std::nullopt;
    }
    t.status = static_cast<TrailerStatus>(i);
  }
  std::string hex;
  const bool has_digest_field = take(*object, "sha256", hex);
  if (has_digest_field && hex != "none") {
    t.sha256 = parse_digest(hex);
    if (!t.sha256) {
      return std::nullopt;
    }
  }
  if (t.status == TrailerStatus::complete && !has_digest_field) {
    return std::nullopt;
  }
  return t;
}

bool describes(const Trailer& trailer, std::string_view volume_uuid, const ScannedFile& data) {
  if (trailer.volume != volume_uuid || trailer.file != data.file || trailer.blocks != data.blocks ||
      trailer.bytes > data.bytes || data.bytes - trailer.bytes != trailer.padding) {
    return false;
  }
  if (trailer.status == TrailerStatus::complete) {
    // A complete stream's digest is of the client's bytes: only without padding can the scan's
    // digest of what it read stand for it. A stream written without a digest ("none") has none
    // to match.
    return !trailer.sha256 || trailer.padding != 0 || data.sha256 == trailer.sha256;
  }
  return true;
}

std::optional<std::string> name_refused(std::string_view name) {
  if (name.empty()) {
    return "a volume name must not be empty";
  }
  if (name.size() > max_name) {
    return "a volume name is at most " + std::to_string(max_name) + " bytes";
  }
  if (!proto::valid_utf8(name)) {
    return "a volume name must be UTF-8";
  }
  for (const char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      return "a volume name must not hold control characters";
    }
  }
  return std::nullopt;
}

std::string new_uuid() {
  std::array<std::uint8_t, 16> random{};
  std::size_t got = 0;
  while (got < random.size()) {
    const auto n = getrandom(random.data() + got, random.size() - got, 0);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (errno != EINTR) {
      throw std::system_error{errno, std::generic_category(), "getrandom"};
    }
  }
  random[6] = static_cast<std::uint8_t>((random[6] & 0x0F) | 0x40);  // version 4
  random[8] = static_cast<std::uint8_t>((random[8] & 0x3F) | 0x80);  // RFC 9562 variant
  std::string text;
  constexpr char digits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < random.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      text.push_back('-');
    }
    text.push_back(digits[random[i] >> 4]);
    text.push_back(digits[random[i] & 0x0F]);
  }
  return text;
}

}  // namespace tapestream::server::tape_label

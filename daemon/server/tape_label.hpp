// The labels a labelled tape carries about itself (docs/TAPE_FORMAT.md, "The labelled
// layout"): the volume label in file 0 and the trailer after each data file, each one JSON
// object in one block. Everything read here comes from a tape, which may hold anything (a
// client's stream that looks like a label, another program's data, a damaged block): parsing
// never throws and takes only what the format says, and whether a trailer really describes
// the file before it is decided by describes(), not by its own say-so.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.hpp"

namespace tapestream::server::tape_label {

using TimePoint = std::chrono::system_clock::time_point;

// A label block is read with one READ of this size: longer blocks are data.
inline constexpr std::size_t max_block = 64 * 1024;
// The format these functions write; a reader takes this one and ignores keys it does not know.
inline constexpr std::uint64_t format = 1;

struct VolumeLabel {
  std::string label;  // the name given to `tapestream label`
  std::string uuid;   // the volume's identity across state directories and servers
  TimePoint created{};
  std::optional<std::string> medium_serial;
  std::string writer;  // the daemon's name and version
};

enum class TrailerStatus { complete, interrupted, failed };

struct Trailer {
  std::string volume;  // the volume label's uuid
  std::uint64_t file = 0;  // the data file it describes
  std::string label;
  std::uint64_t bytes = 0;
  std::uint64_t blocks = 0;
  std::uint32_t block_size = 0;
  bool fixed = false;
  std::uint64_t padding = 0;
  // Only a complete stream has one. A complete stream written without a digest (WRITE flag 128)
  // says so in its trailer ("sha256":"none"): a complete trailer with no digest at all is no
  // trailer, or a block of data shaped like one would pass for it on its counts alone.
  std::optional<base::Sha256Digest> sha256;
  TimePoint started{};
  TimePoint ended{};
  std::uint32_t uid = 0;
  TrailerStatus status = TrailerStatus::complete;
};

// What a scan of a data file found: the facts a trailer must repeat to be taken as its own.
struct ScannedFile {
  std::uint64_t file = 0;
  std::uint64_t bytes = 0;  // as read: a fixed file's padding included
  std::uint64_t blocks = 0;
  std::optional<base::Sha256Digest> sha256;  // of the bytes as read
};

// The block to write: the JSON object and a newline, never longer than max_block (text fields
// are cut to their limits first, so that this holds for any input).
std::vector<std::uint8_t> encode(const VolumeLabel& volume);
std::vector<std::uint8_t> encode(const Trailer& trailer);

// A block as read from the tape; empty unless it is a well-formed label of this kind.
std::optional<VolumeLabel> parse_volume_label(std::span<const std::uint8_t> block);
std::optional<Trailer> parse_trailer(std::span<const std::uint8_t> block);

// Whether `trailer`, read from the file after `data`, is that file's trailer on the volume
// `volume_uuid`: it names this volume and that file, and its counts and digest equal what the
// scan found (a fixed file's padding counted in as it is read back). Anything else is data.
bool describes(const Trailer& trailer, std::string_view volume_uuid, const ScannedFile& data);

// A volume name `tapestream label` accepts: 1 to max_name bytes of UTF-8 without control
// characters; otherwise the reason it is refused.
inline constexpr std::size_t max_name = 64;
std::optional<std::string> name_refused(std::string_view name);

// A random (version 4) UUID, lowercase, for a new volume label.
std::string new_uuid();

}  // namespace tapestream::server::tape_label

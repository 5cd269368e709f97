// tapestream write --span: the parts of a stream that spans volumes, as the daemon commits them,
// on standard error, and what of the stream is on which volume when it ends.
#include <cstdio>
#include <string>

#include "cli.hpp"

namespace tapestream::cli {
namespace {

std::string volume_name(const ts_part& p) {
  if (p.barcode[0] != '\0') {
    return p.barcode;
  }
  if (p.medium_serial[0] != '\0') {
    return std::string{"the volume of medium serial "} + p.medium_serial;
  }
  return "a volume of unknown barcode";
}

}  // namespace

void SpanParts::follow(ts_client* c) {
  ts_set_part_callback(c, [](const ts_part* p, void* context) {
    static_cast<SpanParts*>(context)->add(*p);
  }, this);
}

void SpanParts::add(const ts_part& p) {
  _parts.push_back(p);
  std::fprintf(stderr,
               "tapestream: part %u committed: %llu bytes in %llu blocks as file %llu on %s%s; "
               "%llu bytes of the stream so far\n",
               p.index, static_cast<unsigned long long>(p.bytes),
               static_cast<unsigned long long>(p.blocks),
               static_cast<unsigned long long>(p.file_number), volume_name(p).c_str(),
               p.medium_serial[0] != '\0' && p.barcode[0] != '\0'
                   ? (std::string{" (medium serial "} + p.medium_serial + ")").c_str()
                   : "",
               static_cast<unsigned long long>(p.stream_bytes));
  // Without a library nobody but the operator (or an autoloader) brings the next cartridge.
  if (p.barcode[0] == '\0') {
    std::fprintf(stderr, "tapestream: the stream goes on when a blank cartridge is in the drive "
                         "(a library's robot, an autoloader or you put it in)\n");
  }
  std::fflush(stderr);
}

std::string SpanParts::committed_text() const {
  if (_parts.empty()) {
    return {};
  }
  std::string text = std::to_string(_parts.back().stream_bytes) + " bytes of the stream are committed in " +
                     std::to_string(_parts.size()) + (_parts.size() == 1 ? " part" : " parts") + " (";
  for (std::size_t i = 0; i < _parts.size(); ++i) {
    const auto& p = _parts[i];
    text += (i == 0 ? "" : ", ") + std::to_string(p.bytes) + " bytes as file " +
            std::to_string(p.file_number) + " on " + volume_name(p);
  }
  return text + ")";
}

std::string SpanParts::json() const {
  std::string text = "[";
  for (std::size_t i = 0; i < _parts.size(); ++i) {
    const auto& p = _parts[i];
    text += (i == 0 ? "" : ",") + std::string{"{\"index\":"} + std::to_string(p.index) +
            ",\"file\":" + std::to_string(p.file_number) + ",\"bytes\":" + std::to_string(p.bytes) +
            ",\"blocks\":" + std::to_string(p.blocks) + ",\"stream_bytes\":" +
            std::to_string(p.stream_bytes) + ",\"barcode\":" + json_text(p.barcode) +
            ",\"medium_serial\":" + json_text(p.medium_serial) + "}";
  }
  return text + "]";
}

}  // namespace tapestream::cli

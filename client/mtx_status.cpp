// The library as mtx sees it (mtx.hpp): the daemon's elements put in mtx's numbering, and mtx's
// "status" text. The layout follows mtx 1.3's Status(): the header line's two leading spaces,
// "Data Transfer Element N:" for drives, six spaces before "Storage Element N", "Full " with
// its trailing space, "VolumeTag = " for drives and "VolumeTag=" for slots, and the volume tag
// as the SCSI field holds it: left-aligned in 32 characters padded with spaces.
#include <algorithm>
#include <cstdio>

#include "mtx.hpp"

namespace tapestream::cli {
namespace {

constexpr std::size_t volume_tag_width = 32;  // SMC's primary volume tag identifier

bool is_full(const ts_element& e) { return (e.flags & TS_ELEMENT_FULL) != 0; }

std::string volume_tag(const ts_element& e) {
  std::string tag{e.barcode};
  if (tag.size() < volume_tag_width) {
    tag.resize(volume_tag_width, ' ');
  }
  return tag;
}

int collect(const char* library, const ts_element* element, void* context) {
  auto* into = static_cast<MtxLibrary*>(context);
  into->name = library;
  if (element->kind == TS_ELEMENT_DRIVE) {
    into->drives.push_back(*element);
  } else {
    into->storage.push_back(*element);
  }
  return 0;
}

}  // namespace

Result<MtxLibrary> read_mtx_library(ts_client* c, const std::string& library) {
  MtxLibrary found;
  if (const int r = ts_changer_status(c, library.c_str(), collect, &found); r < 0) {
    return lib_failure(c, r, "changer status");
  }
  std::sort(found.drives.begin(), found.drives.end(),
            [](const ts_element& a, const ts_element& b) { return a.number < b.number; });
  // Slot numbers already count the mail slots after the storage slots; a stable order by number
  // keeps that even if the daemon lists the kinds in another order.
  std::stable_sort(found.storage.begin(), found.storage.end(),
                   [](const ts_element& a, const ts_element& b) { return a.number < b.number; });
  found.import_export = static_cast<std::size_t>(
      std::count_if(found.storage.begin(), found.storage.end(),
                    [](const ts_element& e) { return e.kind == TS_ELEMENT_IMPORT_EXPORT; }));
  return found;
}

std::string mtx_status_text(const MtxLibrary& library, const std::string& device, bool barcodes) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "  Storage Changer %s:%zu Drives, %zu Slots ( %zu Import/Export )\n",
                device.c_str(), library.drives.size(), library.storage.size(),
                library.import_export);
  out += line;
  for (std::size_t i = 0; i < library.drives.size(); ++i) {
    const auto& d = library.drives[i];
    out += "Data Transfer Element " + std::to_string(i) + ":";
    if (!is_full(d)) {
      out += "Empty\n";
      continue;
    }
    out += d.source != 0 ? "Full (Storage Element " + std::to_string(d.source) + " Loaded)"
                         : std::string{"Full (Unknown Storage Element Loaded)"};
    if (barcodes && d.barcode[0] != '\0') {
      out += ":VolumeTag = " + volume_tag(d);
    }
    out += "\n";
  }
  for (std::size_t i = 0; i < library.storage.size(); ++i) {
    const auto& s = library.storage[i];
    out += "      Storage Element " + std::to_string(i + 1) +
           (s.kind == TS_ELEMENT_IMPORT_EXPORT ? " IMPORT/EXPORT" : "") + ":" +
           (is_full(s) ? "Full " : "Empty");
    if (barcodes && is_full(s) && s.barcode[0] != '\0') {
      out += ":VolumeTag=" + volume_tag(s);
    }
    out += "\n";
  }
  return out;
}

}  // namespace tapestream::cli

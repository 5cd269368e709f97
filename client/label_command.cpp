// tapestream label NAME: writes a volume label at the beginning of the tape (LABEL); the daemon
// checks the name and refuses a tape that holds data or a label unless --force.
#include <cstdio>

#include "cli.hpp"

namespace tapestream::cli {

Result<void> label_command(ts_client* c, const Globals& g, const po::variables_map& vm,
                           const std::string& name) {
  BOOST_OUTCOME_TRY(drive, pick_drive(c, g.drive));
  const std::uint32_t flags = vm.count("force") != 0 ? TS_LABEL_FORCE : 0U;
  if (name.size() > TS_MAX_LABEL) {
    // Longer than the field: the daemon's limit (64 bytes) is shorter still.
    return Failure{TS_BAD_REQUEST,
                           "the volume name is refused: it is " + std::to_string(name.size()) +
                               " bytes long, at most 64"};
  }
  ts_labelled done;
  TS_INIT(ts_labelled, &done);
  if (const int r = ts_label_volume(c, drive.c_str(), name.c_str(), flags, &done); r != 0) {
    return lib_failure(c, r, "label");
  }
  const bool voided = (done.flags & TS_LABELLED_VOIDED) != 0;
  if (g.json) {
    std::printf("{\"drive\":%s,\"label\":%s,\"uuid\":%s,\"voided\":%s}\n", json_text(drive).c_str(),
                json_text(done.name).c_str(), json_text(done.uuid).c_str(), voided ? "true" : "false");
  } else {
    std::fprintf(stderr, "tapestream: drive %s: labelled \"%s\" (uuid %s)%s\n", drive.c_str(),
                 done.name, done.uuid, voided ? "; what the tape held before is gone" : "");
  }
  return outcome::success();
}

}  // namespace tapestream::cli

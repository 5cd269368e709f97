// tapestream label NAME: writes a volume label at the beginning of the tape (LABEL); the daemon
// checks the name and refuses a tape that holds data or a label unless --force.
#include <cstdio>

#include "cli.hpp"

namespace tapestream::cli {

client::Result<void> label_command(client::Connection& c, const Globals& g,
                                   const po::variables_map& vm, const std::string& name) {
  proto::LabelRequest request;
  BOOST_OUTCOME_TRY(drive, pick_drive(c, g.drive));
  request.drive = drive;
  request.name = name;
  request.flags = vm.count("force") != 0 ? TS_LABEL_FORCE : 0U;
  if (request.name.size() > TS_MAX_LABEL) {
    // Longer than the field: the daemon's limit (64 bytes) is shorter still.
    return client::Failure{proto::Status::bad_request,
                           "the volume name is refused: it is " +
                               std::to_string(request.name.size()) + " bytes long, at most 64"};
  }
  BOOST_OUTCOME_TRY(c.send(request));
  BOOST_OUTCOME_TRY(reply, c.receive());
  const auto* done = std::get_if<proto::Labelled>(&reply.message);
  if (done == nullptr) {
    return failed(reply.message, "label");
  }
  const bool voided = (done->flags & TS_LABELLED_VOIDED) != 0;
  if (g.json) {
    std::printf("{\"drive\":%s,\"label\":%s,\"uuid\":%s,\"voided\":%s}\n",
                json_text(request.drive).c_str(), json_text(done->name).c_str(),
                json_text(done->uuid).c_str(), voided ? "true" : "false");
  } else {
    std::fprintf(stderr, "tapestream: drive %s: labelled \"%s\" (uuid %s)%s\n",
                 request.drive.c_str(), done->name.c_str(), done->uuid.c_str(),
                 voided ? "; what the tape held before is gone" : "");
  }
  return outcome::success();
}

}  // namespace tapestream::cli

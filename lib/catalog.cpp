// The C API's catalog calls: the files of a volume, verify and label (tapestream.h).
#include <cerrno>
#include <algorithm>
#include <cstring>
#include <string>

#include "handle.hpp"

using namespace tapestream;
using lib::fail;
using lib::guarded;

namespace {

void fill_volume(ts_volume* v, const proto::FileList& list) {
  std::memset(v, 0, sizeof *v);
  v->struct_size = sizeof *v;
  v->first_seen_ms = list.first_seen_ms;
  v->last_seen_ms = list.last_seen_ms;
  lib::copy_text(v->medium_serial, list.medium_serial);
  lib::copy_text(v->label, list.label);
  lib::copy_text(v->uuid, list.uuid);
  lib::copy_text(v->barcode, list.barcode);
}

void fill_file(ts_file* f, const proto::FileEntry& e) {
  std::memset(f, 0, sizeof *f);
  f->struct_size = sizeof *f;
  f->file_number = e.file_number;
  f->bytes = e.bytes;
  f->blocks = e.blocks;
  f->padding = e.padding;
  f->start_ms = e.start_ms;
  f->end_ms = e.end_ms;
  f->rate = e.rate;
  f->block_size = e.block_size;
  f->client_uid = e.client_uid;
  f->status = e.status;
  f->flags = e.flags;
  if (e.digest) {
    // The codec keeps the flag as the optional digest; the C struct says it as the header does.
    f->flags = static_cast<std::uint8_t>(f->flags | TS_FILE_HAS_DIGEST);
    std::memcpy(f->sha256, e.digest->data(), e.digest->size());
  }
  f->label = e.label.c_str();
  f->failure = e.failure.c_str();
  f->span_stream = e.span_stream;
  f->span_part = e.span_part;
  f->span_flags = e.span_flags;
  f->span_offset = e.span_offset;
}

// Receives the next frame that is not PROGRESS, which goes to the callback.
client::Result<client::Received> next(ts_client* client) {
  for (;;) {
    BOOST_OUTCOME_TRY(r, client->connection.receive());
    if (const auto* p = std::get_if<proto::Progress>(&r.message)) {
      lib::report_progress(client, *p);
      continue;
    }
    return r;
  }
}

}  // namespace

extern "C" {

int ts_list_files(ts_client* client, const char* drive, const char* volume, ts_file_fn each,
                  void* context) {
  return ts_list_volume(client, drive, volume, nullptr, each, context);
}

int ts_list_volume(ts_client* client, const char* drive, const char* volume, ts_volume* out,
                   ts_file_fn each, void* context) {
  return guarded(client, [&] {
    if (const int r = lib::usable(client); r != 0) {
      return r;
    }
    if (out != nullptr && !lib::sized(out)) {
      return fail(client, proto::Status::bad_request, "ts_list_volume: set struct_size with TS_INIT");
    }
    const auto wanted = lib::text_argument(volume, TS_MAX_VOLUME_TEXT);
    if (!wanted || !proto::valid_utf8(*wanted)) {
      return fail(client, proto::Status::bad_request, "a volume is at most 64 bytes of UTF-8");
    }
    auto name = lib::pick_drive(client, drive);
    if (!name) {
      return fail(client, name.error());
    }
    if (auto sent = client->connection.send(proto::ListFiles{name.value(), *wanted}); !sent) {
      return fail(client, sent.error());
    }
    int count = 0;
    int stopped = 0;
    for (;;) {
      auto reply = next(client);
      if (!reply) {
        return fail(client, reply.error());
      }
      const auto* list = std::get_if<proto::FileList>(&reply.value().message);
      if (list == nullptr) {
        return fail(client, lib::unexpected(reply.value().message, "listing the files"));
      }
      ts_volume v;
      fill_volume(&v, *list);
      if (out != nullptr && count == 0) {
        lib::deliver(out, v);  // the first frame names the volume, files or none
      }
      for (const auto& entry : list->files) {
        ++count;
        if (each != nullptr && stopped == 0) {
          ts_file f;
          fill_file(&f, entry);
          stopped = each(&v, &f, context);
        }
      }
      if ((list->flags & TS_FILE_LIST_MORE) == 0) {
        return stopped != 0 ? stopped : count;
      }
    }
  });
}

int ts_label(ts_client* client, const char* drive, const char* name, uint32_t flags, char* uuid,
             size_t uuid_size) {
  if (uuid != nullptr && uuid_size == 0) {
    return -EINVAL;
  }
  ts_labelled labelled;
  TS_INIT(ts_labelled, &labelled);
  const int r = ts_label_volume(client, drive, name, flags, &labelled);
  if (r == 0 && uuid != nullptr) {
    const std::string text = labelled.uuid;
    const auto n = std::min(text.size(), uuid_size - 1);
    text.copy(uuid, n);
    uuid[n] = '\0';
  }
  return r;
}

int ts_label_volume(ts_client* client, const char* drive, const char* name, uint32_t flags,
                    struct ts_labelled* out) {
  return guarded(client, [&] {
    if (const int r = lib::usable(client); r != 0) {
      return r;
    }
    if ((flags & ~TS_LABEL_FORCE) != 0) {
      return fail(client, proto::Status::bad_request, "ts_label: the only flag is TS_LABEL_FORCE");
    }
    if (out != nullptr && !lib::sized(out)) {
      return fail(client, proto::Status::bad_request, "ts_label_volume: set struct_size with TS_INIT");
    }
    const auto volume = lib::text_argument(name, TS_MAX_LABEL);
    if (!volume || !proto::valid_utf8(*volume)) {
      return fail(client, proto::Status::bad_request, "a volume name is at most 64 bytes of UTF-8");
    }
    auto drive_name = lib::pick_drive(client, drive);
    if (!drive_name) {
      return fail(client, drive_name.error());
    }
    if (auto sent = client->connection.send(proto::LabelRequest{flags, drive_name.value(), *volume});
        !sent) {
      return fail(client, sent.error());
    }
    auto reply = next(client);
    if (!reply) {
      return fail(client, reply.error());
    }
    const auto* labelled = std::get_if<proto::Labelled>(&reply.value().message);
    if (labelled == nullptr) {
      return fail(client, lib::unexpected(reply.value().message, "label"));
    }
    if (out != nullptr) {
      ts_labelled filled;
      std::memset(&filled, 0, sizeof filled);
      filled.flags = labelled->flags;
      lib::copy_text(filled.name, labelled->name);
      lib::copy_text(filled.uuid, labelled->uuid);
      lib::deliver(out, filled);
    }
    return 0;
  });
}

int ts_verify(ts_client* client, const char* drive, uint64_t file_number, uint32_t flags,
              ts_verified_fn each, void* context, struct ts_verify_summary* out) {
  return guarded(client, [&] {
    if (const int r = lib::usable(client); r != 0) {
      return r;
    }
    if ((flags & ~TS_VERIFY_ALL) != 0 || ((flags & TS_VERIFY_ALL) != 0 && file_number != 0) ||
        file_number == TS_READ_CURRENT_FILE) {
      return fail(client, proto::Status::bad_request,
                  "ts_verify: one file number, or TS_VERIFY_ALL with file number 0");
    }
    if (out != nullptr && !lib::sized(out)) {
      return fail(client, proto::Status::bad_request, "ts_verify: set struct_size with TS_INIT");
    }
    auto name = lib::pick_drive(client, drive);
    if (!name) {
      return fail(client, name.error());
    }
    if (client->progress != nullptr) {
      flags |= TS_VERIFY_PROGRESS;
    }
    if (auto sent = client->connection.send(proto::VerifyRequest{flags, file_number, name.value()});
        !sent) {
      return fail(client, sent.error());
    }
    for (;;) {
      auto reply = next(client);
      if (!reply) {
        return fail(client, reply.error());
      }
      const auto& message = reply.value().message;
      if (const auto* v = std::get_if<proto::Verified>(&message)) {
        if (each != nullptr) {
          ts_verified verified{};
          verified.struct_size = sizeof verified;
          verified.file_number = v->file_number;
          verified.bytes = v->bytes;
          verified.blocks = v->blocks;
          verified.catalog_bytes = v->catalog_bytes;
          verified.catalog_blocks = v->catalog_blocks;
          verified.verdict = v->verdict;
          verified.catalog_status = v->catalog_status;
          verified.condition = static_cast<std::uint16_t>(v->condition);
          verified.message = v->message.c_str();
          if (v->digest) {
            verified.has_digest = 1;
            std::memcpy(verified.sha256, v->digest->data(), v->digest->size());
          }
          if (v->catalog_digest) {
            verified.has_catalog_digest = 1;
            std::memcpy(verified.catalog_sha256, v->catalog_digest->data(), v->catalog_digest->size());
          }
          each(&verified, context);
        }
        continue;
      }
      const auto* done = std::get_if<proto::VerifyDone>(&message);
      if (done == nullptr) {
        return fail(client, lib::unexpected(message, "verify"));
      }
      if (out != nullptr) {
        out->checked = done->checked;
        out->ok = done->ok;
        out->unrecorded = done->unrecorded;
        out->bad = done->bad;
        out->flags = done->flags;
      }
      return 0;
    }
  });
}

int ts_catalog_rebuild(ts_client* client, const char* drive, struct ts_rebuilt* out) {
  return guarded(client, [&] {
    if (const int r = lib::usable(client); r != 0) {
      return r;
    }
    if (out != nullptr && !lib::sized(out)) {
      return fail(client, proto::Status::bad_request, "ts_catalog_rebuild: set struct_size with TS_INIT");
    }
    auto name = lib::pick_drive(client, drive);
    if (!name) {
      return fail(client, name.error());
    }
    const std::uint32_t flags = client->progress != nullptr ? TS_REBUILD_PROGRESS : 0U;
    if (auto sent = client->connection.send(proto::CatalogRebuild{flags, name.value()}); !sent) {
      return fail(client, sent.error());
    }
    auto reply = next(client);
    if (!reply) {
      return fail(client, reply.error());
    }
    const auto* rebuilt = std::get_if<proto::CatalogRebuilt>(&reply.value().message);
    if (rebuilt == nullptr) {
      return fail(client, lib::unexpected(reply.value().message, "catalog rebuild"));
    }
    if (out != nullptr) {
      out->files = rebuilt->files;
      out->data_files = rebuilt->data_files;
      out->confirmed = rebuilt->confirmed;
      out->flags = rebuilt->flags;
      lib::copy_text(out->medium_serial, rebuilt->medium_serial);
      lib::copy_text(out->label, rebuilt->label);
      lib::copy_text(out->uuid, rebuilt->uuid);
    }
    return 0;
  });
}

}  // extern "C"

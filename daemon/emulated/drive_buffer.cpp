// The emulated drive's buffer on an image (BufferBatch): appends acknowledged once
// their pages are on the image, linked into the tape when the buffer goes to the tape. Each
// append of a batch writes its pages and the link of the append before it together, so a WRITE
// costs the disk one round of concurrent writes instead of two in turn. No link is written
// before the append it links in has completed, so whatever a crash or a failed or abandoned
// command leaves, the image reads as a prefix of the completed appends.
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "emulated/emulated_drive.hpp"
#include "emulated/image_file.hpp"

namespace tapestream::emulated {
namespace {

// Pages held for a link take `newer` from `at` on: a later version of what they hold there (a
// tail only grows).
void supersede(std::vector<std::uint8_t>& pages, std::uint64_t offset, std::uint64_t at,
               std::span<const std::uint8_t> newer) {
  pages.resize(at - offset);
  pages.insert(pages.end(), newer.begin(), newer.end());
}

}  // namespace

bool EmulatedDrive::buffering() const {
  return _model && _buffered_mode != 0 && !_spec.null_medium;
}

// MODE SELECT too: buffered mode 0 acknowledges only what is on the tape.
bool EmulatedDrive::links_first(scsi::Opcode op) {
  return moves_tape(op) || op == scsi::Opcode::mode_select6 || op == scsi::Opcode::mode_select10;
}

void EmulatedDrive::buffered_append(bool sync, std::function<void(bool)> done) {
  const auto& link = _plan.link;
  const auto link_pages = _plan.staging.view().subspan(link.from, link.length);
  std::uint64_t adding = 0;
  for (const auto& o : _plan.objects) {
    adding += o.filemark ? 0 : o.length;
  }
  for (const auto& w : _plan.prepare) {
    queue_plan_write(w);
  }
  // Link writes beside this append connect only appends that have completed: its own link is
  // held until it has completed too.
  std::optional<BufferBatch> next;
  std::vector<IoOperation*> links;
  bool retired = false;
  if (_batch) {
    TapeIndex run = _batch->run;
    for (const auto& o : _plan.objects) {
      run.push(o);
    }
    const bool tape_took_all = _model->buffered(DriveModel::Clock::now()).second == 0;
    if (run.runs() == 1 && _batch->data_bytes + adding <= _model->spec().buffer && !tape_took_all) {
      next = *_batch;
      next->run = std::move(run);
      if (!next->last.empty() && link.offset < next->last_offset + next->last.size()) {
        supersede(next->last, next->last_offset, link.offset, link_pages);  // small objects
      } else {
        if (!next->last.empty()) {
          links.push_back(queue_last_link(0));
          next->last.clear();
        }
        if (link.offset < next->end()) {
          supersede(next->link, next->offset, link.offset, link_pages);
        } else {
          next->last_offset = link.offset;
          next->last.assign(link_pages.begin(), link_pages.end());
        }
      }
    } else {
      links = queue_batch_links();  // the batch goes to the tape; this append starts the next
      retired = true;
    }
  }
  if (!next) {
    next.emplace();
    next->offset = link.offset;
    next->link.assign(link_pages.begin(), link_pages.end());
    next->tail = _tail;
    next->objects = _index.size();
    for (const auto& o : _plan.objects) {
      next->run.push(o);
    }
  }
  next->data_bytes += adding;
  _on_io_done = [this, sync, next = std::move(next), links, retired,
                 done = std::move(done)]() mutable {
    if (!std::all_of(links.begin(), links.end(), [](const IoOperation* op) { return op->ok(); })) {
      lose_batch();
      done(false);
      return;
    }
    if (io_failed()) {  // this append is not on the tape; the links written do not reach it
      if (retired) {
        _batch.reset();
      } else if (!links.empty()) {
        _batch->last.clear();
      }
      done(false);
      return;
    }
    commit_plan();
    _batch = std::move(next);
    // A fixed-block WRITE of records that do not all start on a page is two runs by itself:
    // opening would take what a crash left of it for damage, so it is not held.
    if (sync || _batch->run.runs() > 1) {
      link_batch(sync, done);
    } else {
      done(true);
    }
  };
}

// The latest append's link goes before the first: a write torn by a power failure then tears
// one link at a time, and the first, which makes the batch part of the tape, lands last.
std::vector<EmulatedDrive::IoOperation*> EmulatedDrive::queue_batch_links(bool then_sync) {
  std::vector<IoOperation*> ops;
  if (!_batch->last.empty()) {
    ops.push_back(queue_last_link(IOSQE_IO_LINK));
  }
  _link_bytes = PageBytes{_batch->link};
  queue_io(uring::Write{append_fd(), _link_bytes.view(), _batch->offset},
           static_cast<std::uint32_t>(_batch->link.size()), then_sync ? IOSQE_IO_LINK : 0);
  ops.push_back(&_io.back());
  return ops;
}

EmulatedDrive::IoOperation* EmulatedDrive::queue_last_link(std::uint8_t flags) {
  _last_link_bytes = PageBytes{_batch->last};
  queue_io(uring::Write{append_fd(), _last_link_bytes.view(), _batch->last_offset},
           static_cast<std::uint32_t>(_batch->last.size()), flags);
  return &_io.back();
}

void EmulatedDrive::link_batch(bool sync, std::function<void(bool)> done) {
  if (_batch) {
    queue_batch_links(sync);
  }
  if (sync) {
    queue_io(uring::Fsync{append_fd(), true}, 0);
  }
  _on_io_done = [this, done = std::move(done)] {
    if (io_failed()) {
      if (_batch) {
        lose_batch();
      }
      done(false);
      return;
    }
    _batch.reset();
    done(true);
  };
}

bool EmulatedDrive::link_batch_now() {
  if (!_batch) {
    return true;
  }
  const int fd = append_fd();
  const auto put = [fd](std::uint64_t offset, const std::vector<std::uint8_t>& pages) {
    if (pages.empty()) {
      return true;
    }
    const PageBytes aligned{pages};
    const auto bytes = aligned.view();
    return pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)) ==
           static_cast<ssize_t>(bytes.size());
  };
  if (put(_batch->last_offset, _batch->last) && put(_batch->offset, _batch->link) &&
      fdatasync(fd) == 0) {
    _batch.reset();
    return true;
  }
  lose_batch();
  return false;
}

void EmulatedDrive::lose_batch() {
  spdlog::error("emulated drive {}: image {}: the write that links the blocks in the drive's "
                "buffer into the tape failed: the {} objects after object {} are not on the tape",
                _spec.serial, _spec.image.string(), _index.size() - _batch->objects,
                _batch->objects);
  // Whatever failed beside the link and whatever its errno, the command reads as a medium
  // error, not as a full file system (VOLUME OVERFLOW), which says that what came before is safe.
  for (auto& op : _io) {
    if (!op.ok()) {
      op.result = -EIO;
    }
  }
  _tape_alerts |= alert(alert_write_failure);
  _index.truncate(_batch->objects);
  _tail = std::move(_batch->tail);
  _index.set_end(_tail.end_of_data);
  _position = std::min(_position, _index.size());
  _batch.reset();
  // Part of the batch may be linked on the image: the tape is cut where the drive now says it
  // ends, so that a later open does not show blocks the host was told are lost.
  if (auto tail = end_image_at(_fd.get(), _tail.end_of_data)) {
    _tail = std::move(tail.value());
    _reserved = _tail.end();
    _tail_on_disk = true;
  } else {
    _tail_on_disk = false;  // the next write cuts it (cut_at)
  }
}

}  // namespace tapestream::emulated

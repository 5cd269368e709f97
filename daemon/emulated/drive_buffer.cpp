// The emulated drive's buffer on an image (EmulatedDrive::Batch): appends acknowledged once
// their pages are on the image, linked into the tape when the buffer goes to the tape. Each
// append of a batch writes its pages and the link of the append before it together, so a WRITE
// costs the disk one round of concurrent writes instead of two in turn.
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "emulated/emulated_drive.hpp"

namespace tapestream::emulated {
namespace {

constexpr std::uint64_t write_failure_alert = std::uint64_t{1} << (6 - 1);

}  // namespace

bool EmulatedDrive::buffering() const {
  return _model && _buffered_mode != 0 && !_spec.null_medium;
}

bool EmulatedDrive::links_first(scsi::Opcode op) {
  using scsi::Opcode;
  switch (op) {
    case Opcode::read6:
    case Opcode::space6:
    case Opcode::space16:
    case Opcode::locate10:
    case Opcode::locate16:
    case Opcode::rewind:
    case Opcode::load_unload:
    case Opcode::erase6:
    case Opcode::mode_select6:  // buffered mode 0 acknowledges only what is on the tape
    case Opcode::mode_select10:
      return true;
    default:
      return false;
  }
}

void EmulatedDrive::buffered_append(bool sync, std::function<void(bool)> done) {
  const auto& link = _plan.link;
  const auto link_pages = _plan.staging.view().subspan(link.from, link.length);
  if (_batch && link.offset < _batch->end()) {
    // This append's link rewrites a page the batch's link holds (small objects in one page):
    // the batch goes to the tape first, so that no page is written twice at once.
    link_batch(false, [this, sync, done = std::move(done)](bool linked) {
      if (!linked) {
        done(false);
        return;
      }
      buffered_append(sync, done);
    });
    return;
  }
  std::uint64_t adding = 0;
  for (const auto& o : _plan.objects) {
    adding += o.filemark ? 0 : o.length;
  }
  std::optional<Batch> next;
  IoOperation* retired = nullptr;
  if (_batch) {
    TapeIndex run = _batch->run;
    for (const auto& o : _plan.objects) {
      run.push(o);
    }
    const bool tape_took_all = _model->buffered(DriveModel::Clock::now()).second == 0;
    if (run.runs() == 1 && _batch->data_bytes + adding <= _model->spec().buffer && !tape_took_all) {
      next = *_batch;
      next->run = std::move(run);
      queue_io(uring::Write{_append_fd.get(), link_pages, link.offset},
               static_cast<std::uint32_t>(link.length));
    } else {
      // The batch is linked beside this append, whose own link starts the next batch: the two
      // links touch different pages, and each makes only completed appends part of the tape.
      _link_bytes = PageBytes{_batch->link};
      queue_io(uring::Write{_append_fd.get(), _link_bytes.view(), _batch->offset},
               static_cast<std::uint32_t>(_batch->link.size()));
      retired = &_io.back();
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
  for (const auto& w : _plan.prepare) {
    queue_plan_write(w);
  }
  _on_io_done = [this, sync, next = std::move(next), retired, done = std::move(done)]() mutable {
    if (retired != nullptr && !retired->ok()) {
      lose_batch();
      done(false);
      return;
    }
    if (io_failed()) {
      if (retired != nullptr) {
        _batch.reset();  // linked; this append is not on the tape and starts no batch
      }
      done(false);
      return;
    }
    commit_plan();
    _batch = std::move(next);
    if (sync) {
      link_batch(true, done);
    } else {
      done(true);
    }
  };
}

void EmulatedDrive::link_batch(bool sync, std::function<void(bool)> done) {
  const int fd = _append_fd ? _append_fd.get() : _fd.get();
  if (_batch) {
    _link_bytes = PageBytes{_batch->link};
    queue_io(uring::Write{fd, _link_bytes.view(), _batch->offset},
             static_cast<std::uint32_t>(_batch->link.size()), sync ? IOSQE_IO_LINK : 0);
  }
  if (sync) {
    queue_io(uring::Fsync{fd, true}, 0);
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

void EmulatedDrive::link_batch_now() {
  if (!_batch) {
    return;
  }
  const int fd = _append_fd ? _append_fd.get() : _fd.get();
  const PageBytes pages{_batch->link};
  const auto bytes = pages.view();
  if (pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(_batch->offset)) ==
          static_cast<ssize_t>(bytes.size()) &&
      fdatasync(fd) == 0) {
    _batch.reset();
    return;
  }
  lose_batch();
}

void EmulatedDrive::lose_batch() {
  spdlog::error("emulated drive {}: image {}: the write that links the blocks in the drive's "
                "buffer into the tape failed: the {} objects after object {} are not on the tape",
                _spec.serial, _spec.image.string(), _index.size() - _batch->objects,
                _batch->objects);
  _tape_alerts |= write_failure_alert;
  _index.truncate(_batch->objects);
  _tail = std::move(_batch->tail);
  _index.set_end(_tail.end_of_data);
  _tail_on_disk = false;  // the batch's pages lie after it: the next write cuts them off
  _position = std::min(_position, _index.size());
  _batch.reset();
}

}  // namespace tapestream::emulated

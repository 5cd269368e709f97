// The emulated drive's image on a file system that fills up: writing goes on until the drive
// reports an error, and every block it acknowledged reads back, after reopening the image, from a
// tmpfs of 4 MiB and from an ext4 file system in a 16 MiB loop-mounted file. Needs root (mount);
// skips, saying so, without it. Emulated drive only.
#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include "fixture.hpp"

using namespace tapestream::scsi;
using tapestream::test::conformance_target;
using tapestream::test::expect_sense;
using tapestream::test::Harness;
using tapestream::test::pattern_block;
using tapestream::test::ScratchDirectory;

namespace {

// A file system mounted for the test, unmounted when it ends, whatever way it ends.
class Mount {
 public:
  // Runs `command` (which mounts on `where`); throws with what failed.
  Mount(std::filesystem::path where, const std::string& command) : _where{std::move(where)} {
    std::filesystem::create_directories(_where);
    const auto status = std::system((command + " >/dev/null 2>&1").c_str());
    if (status != 0) {
      throw std::runtime_error{"\"" + command + "\" failed (status " + std::to_string(status) +
                               ")"};
    }
  }
  ~Mount() {
    if (umount2(_where.c_str(), 0) != 0) {
      umount2(_where.c_str(), MNT_DETACH);  // something still holds it: at least take it away
    }
  }
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  const std::filesystem::path& path() const { return _where; }

 private:
  std::filesystem::path _where;
};

// Packed and page-aligned records both: the two ways an append lays out its bytes.
std::size_t mixed_lengths(std::uint32_t block) {
  constexpr std::size_t lengths[] = {65536, 1000, 200000, 70001};
  return lengths[block % 4];
}
// One length: the drive's buffer holds many of them before it links them in.
std::size_t equal_lengths(std::uint32_t) { return 65536; }

// Writes until the drive reports an error, reopens the image and reads every acknowledged block.
// With the drive's buffer (`options`), acknowledged blocks wait for their link: a full file
// system must not cost them either.
// `close`: the writer closes its file after the failure (else it goes away without a filemark,
// and the drive writes its buffer out as it closes).
void fill_and_read_back(const std::filesystem::path& image, const std::string& options = "",
                        std::size_t (*length_of)(std::uint32_t) = mixed_lengths, bool close = true) {
  std::uint32_t acknowledged = 0;
  {
    Harness h{conformance_target(image, options), 256 * 1024};
    for (;; ++acknowledged) {
      ASSERT_LT(acknowledged, 10000U) << "the file system never filled up";
      const auto b = pattern_block(3, acknowledged, length_of(acknowledged));
      const auto e = h.run(cdb::write6_variable(Count24::from(b.size()).value()), b);
      if (e.classification.condition == TapeCondition::good) {
        continue;
      }
      // A full file system is the end of the image's medium, not a defect of it: VOLUME
      // OVERFLOW with EOM, nothing of the block written (INFORMATION = its length), as when the
      // drive's capacity is reached; a MEDIUM ERROR would say the tape is bad and raise a
      // TapeAlert for a cartridge that is fine.
      EXPECT_EQ(e.classification.condition, TapeCondition::volume_overflow)
          << condition_name(e.classification.condition) << " after " << acknowledged << " blocks";
      expect_sense(e, SenseKey::volume_overflow, 0x0002, static_cast<std::int64_t>(b.size()));
      EXPECT_EQ(e.result.residue, b.size());
      break;
    }
    EXPECT_GT(acknowledged, 3U);
    // A writer then closes its file if it can; either way nothing acknowledged may suffer.
    if (close) {
      const auto mark = h.run(cdb::write_filemarks6(Count24::from(1).value(), false));
      EXPECT_TRUE(mark.classification.condition == TapeCondition::good ||
                  mark.classification.condition == TapeCondition::volume_overflow)
          << condition_name(mark.classification.condition);
    }
  }
  Harness h{conformance_target(image, ""), 256 * 1024};  // opens: no damage, nothing lost
  for (std::uint32_t i = 0; i < acknowledged; ++i) {
    const auto length = length_of(i);
    const auto e = h.run(cdb::read6_variable(Count24::from(length).value(), true), {}, length);
    ASSERT_EQ(e.classification.condition, TapeCondition::good) << "block " << i;
    ASSERT_EQ(e.data, pattern_block(3, i, length)) << "block " << i;
  }
  const auto after = h.run(cdb::read6_variable(Count24::from(1000).value(), true), {}, 1000);
  EXPECT_TRUE(after.classification.condition == TapeCondition::filemark ||
              after.classification.condition == TapeCondition::end_of_data)
      << condition_name(after.classification.condition);
  // Writing on: the first write after reopening puts the open end back where the tape ends; on a
  // full file system that, too, is the end of the medium.
  ASSERT_EQ(h.run(cdb::locate16(cdb::LocateDestination::end_of_data, 0, {}, false))
                .classification.condition,
            TapeCondition::good);
  const auto more = pattern_block(4, 0, 200000);
  const auto e = h.run(cdb::write6_variable(Count24::from(more.size()).value()), more);
  EXPECT_TRUE(e.classification.condition == TapeCondition::good ||
              e.classification.condition == TapeCondition::volume_overflow)
      << condition_name(e.classification.condition);
}

constexpr const char* drive_buffer = "buffer=4M&rate=40M&min_rate=40M&backhitch=0s";

// Without the drive's buffer, and with it: mixed blocks, equal ones (which the buffer holds many
// of), and equal ones with no closing filemark (the drive links its buffer as it closes).
void fill_every_way(const std::filesystem::path& directory) {
  const auto image = directory / "tape.tap";
  fill_and_read_back(image);
  std::filesystem::remove(image);
  fill_and_read_back(image, drive_buffer);
  for (const bool close : {true, false}) {
    std::filesystem::remove(image);
    fill_and_read_back(image, drive_buffer, equal_lengths, close);
  }
}

class DiskFull : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "mounting a small file system needs root; run as root to check disk full";
    }
  }
  ScratchDirectory _scratch;
};

TEST_F(DiskFull, Tmpfs) {
  std::optional<Mount> mount;
  try {
    mount.emplace(_scratch.path() / "mnt", "mount -t tmpfs -o size=4M tmpfs " +
                                                (_scratch.path() / "mnt").string());
  } catch (const std::exception& e) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << e.what();
  }
  fill_every_way(mount->path());
}

TEST_F(DiskFull, Ext4OnALoopDevice) {
  const auto backing = _scratch.path() / "ext4.img";
  const auto where = _scratch.path() / "mnt";
  std::optional<Mount> mount;
  try {
    mount.emplace(where, "truncate -s 16M " + backing.string() + " && mkfs.ext4 -q " +
                             backing.string() + " && mount -o loop " + backing.string() + " " +
                             where.string());
  } catch (const std::exception& e) {
    GTEST_SKIP() << "cannot make and loop-mount an ext4 file system here: " << e.what();
  }
  fill_every_way(mount->path());
}

}  // namespace

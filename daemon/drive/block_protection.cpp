#include "drive/block_protection.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "common/crc32c.hpp"
#include "scsi/bytes.hpp"
#include "scsi/cdb.hpp"

namespace tapestream::drive {
namespace {

using scsi::DataProtectionPage;
using scsi::TapeCondition;
using Method = DataProtectionPage::Method;

// MODE SENSE(6) without block descriptors: the page alone after the 4-byte header.
scsi::Command sense_command(scsi::cdb::PageControl control) {
  return scsi::cdb::mode_sense6(DataProtectionPage::code, DataProtectionPage::subpage, control, true);
}

std::optional<DataProtectionPage> page_in(std::span<const std::uint8_t> data) {
  auto parsed = scsi::parse_mode_sense6(data);
  if (!parsed) {
    return std::nullopt;
  }
  const auto* page = parsed.value().find_page(DataProtectionPage::code, DataProtectionPage::subpage);
  if (page == nullptr) {
    return std::nullopt;
  }
  auto p = DataProtectionPage::from(*page);
  return p ? std::optional{p.value()} : std::nullopt;
}

// One confirmation's steps, kept alive by the callbacks that carry it.
struct Confirmation : std::enable_shared_from_this<Confirmation> {
  CommandChannel& channel;
  transport::DataBuffer scratch;
  Protection wanted;
  std::function<void(const ProtectionOutcome&)> done;
  ProtectionOutcome outcome;

  Confirmation(CommandChannel& c, transport::DataBuffer s, Protection w,
               std::function<void(const ProtectionOutcome&)> d)
      : channel{c}, scratch{s}, wanted{w}, done{std::move(d)} {}

  void finish() { done(outcome); }

  void refuse(std::string message, const scsi::Classification& c = {}) {
    outcome.on = false;
    outcome.refusal = std::move(message);
    outcome.condition = c;
    finish();
  }

  // The drive has no CRC32C to give: fine unless `on` asked for it.
  void without(const std::string& why) {
    if (wanted == Protection::on) {
      refuse("protection=on, but the drive offers no Logical Block Protection with CRC32C (" +
             why + "); the stream was not started");
      return;
    }
    finish();
  }

  void sense_current() {
    const auto command = sense_command(scsi::cdb::PageControl::current);
    channel.send(command, {scratch.index, scratch.bytes.first(255)},
                 [self = shared_from_this(), command](const transport::ScsiResult& r) {
      const auto c = scsi::classify(command, r.status());
      auto page = c.condition == TapeCondition::good ? page_in(self->scratch.bytes.first(255))
                                                     : std::nullopt;
      self->current(c, page);
    }, CommandChannel::Resend::after_unit_attention);
  }

  void current(const scsi::Classification& c, const std::optional<DataProtectionPage>& page) {
    if (!page) {
      if (is_unit_attention(c.condition) || c.condition == TapeCondition::no_medium ||
          c.condition == TapeCondition::transport_failure) {
        // Not an answer about the page but about the drive, which the stream could not use
        // either.
        refuse("MODE SENSE of the Control Data Protection page failed: " +
                   std::string{scsi::condition_name(c.condition)}, c);
        return;
      }
      without("no Control Data Protection mode page");
      return;
    }
    if (wanted == Protection::off) {
      if (any_protection_on(*page)) {
        outcome.offered = true;
        select(Method::none);
        return;
      }
      finish();
      return;
    }
    if (crc32c_on(*page)) {
      outcome.on = true;
      outcome.offered = true;
      finish();
      return;
    }
    sense_changeable(any_protection_on(*page));
  }

  void sense_changeable(bool other_method_on) {
    const auto command = sense_command(scsi::cdb::PageControl::changeable);
    channel.send(command, {scratch.index, scratch.bytes.first(255)},
                 [self = shared_from_this(), command, other_method_on](const transport::ScsiResult& r) {
      const auto c = scsi::classify(command, r.status());
      std::optional<scsi::ModeParameters> parsed;
      if (c.condition == TapeCondition::good) {
        if (auto p = scsi::parse_mode_sense6(self->scratch.bytes.first(255))) {
          parsed = std::move(p).value();
        }
      }
      if (!parsed || !offers_crc32c(*parsed)) {
        if (other_method_on) {
          // Blocks without the CRC that method expects would be refused or stored wrong.
          self->refuse("the drive has a Logical Block Protection method other than CRC32C on, "
                       "and tapestream cannot use it; the stream was not started");
          return;
        }
        self->without("the Control Data Protection page cannot select CRC32C");
        return;
      }
      self->outcome.offered = true;
      self->select(Method::crc32c);
    }, CommandChannel::Resend::after_unit_attention);
  }

  void select(Method method) {
    const bool on = method == Method::crc32c;
    const auto page = DataProtectionPage::make(method, on, on);
    const std::span<const std::uint8_t> pages[] = {page.bytes()};
    auto list = scsi::mode_select6_parameters(std::nullopt, pages);
    if (!list || list.value().size() > scratch.bytes.size()) {
      refuse("cannot build the Control Data Protection page's MODE SELECT list");
      return;
    }
    std::copy(list.value().begin(), list.value().end(), scratch.bytes.begin());
    const auto command = scsi::cdb::mode_select6(static_cast<std::uint8_t>(list.value().size()));
    channel.send(command, {scratch.index, scratch.bytes.first(list.value().size())},
                 [self = shared_from_this(), command, on](const transport::ScsiResult& r) {
      const auto c = scsi::classify(command, r.status());
      if (c.condition == TapeCondition::good) {
        self->outcome.on = on;
        self->finish();
        return;
      }
      if (!on) {
        self->refuse("protection=off, but the drive would not turn Logical Block Protection off "
                     "(MODE SELECT: " + std::string{scsi::condition_name(c.condition)} + ")", c);
        return;
      }
      if (self->wanted == Protection::on) {
        self->refuse("the drive would not turn on Logical Block Protection with CRC32C (MODE "
                     "SELECT: " + std::string{scsi::condition_name(c.condition)} + ")", c);
        return;
      }
      self->outcome.offered = false;
      self->finish();
    }, CommandChannel::Resend::after_unit_attention);
  }
};

}  // namespace

std::optional<Protection> parse_protection(std::string_view text) {
  if (text == "auto") {
    return Protection::automatic;
  }
  if (text == "off") {
    return Protection::off;
  }
  if (text == "on") {
    return Protection::on;
  }
  return std::nullopt;
}

std::string_view protection_name(Protection protection) {
  switch (protection) {
    case Protection::automatic: return "auto";
    case Protection::off: return "off";
    case Protection::on: return "on";
  }
  return "auto";
}

bool append_block_crc(std::span<std::uint8_t> buffer, std::uint32_t length) {
  if (buffer.size() < std::size_t{length} + protection_bytes) {
    return false;
  }
  scsi::store_be(buffer, length, crc32c(buffer.first(length)), protection_bytes);
  return true;
}

std::optional<std::uint32_t> checked_block_length(std::span<const std::uint8_t> block) {
  if (block.size() < protection_bytes) {
    return std::nullopt;
  }
  const auto length = static_cast<std::uint32_t>(block.size() - protection_bytes);
  if (crc32c(block.first(length)) != scsi::load_be32(block, length)) {
    return std::nullopt;
  }
  return length;
}

bool offers_crc32c(const scsi::ModeParameters& changeable) {
  const auto* page = changeable.find_page(DataProtectionPage::code, DataProtectionPage::subpage);
  if (page == nullptr || page->bytes.size() < 7) {
    return false;
  }
  // Changeable values are masks: the method field must take 2, and both bits must be settable.
  const auto method_mask = page->bytes[4];
  const auto length_mask = page->bytes[5] & 0x3F;
  return (method_mask & 0x02) != 0 && (length_mask & 0x04) != 0 && (page->bytes[6] & 0xC0) == 0xC0;
}

bool crc32c_on(const DataProtectionPage& page) {
  return page.method() == Method::crc32c && page.information_length() == protection_bytes &&
         page.protect_write() && page.protect_read();
}

bool any_protection_on(const DataProtectionPage& page) {
  return page.method() != Method::none || page.protect_write() || page.protect_read();
}

void confirm_protection(CommandChannel& channel, transport::DataBuffer scratch,
                        Protection wanted, std::function<void(const ProtectionOutcome&)> done) {
  auto confirmation = std::make_shared<Confirmation>(channel, scratch, wanted, std::move(done));
  confirmation->sense_current();
}

}  // namespace tapestream::drive

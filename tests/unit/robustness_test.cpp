// Every parser, fed every prefix of realistic responses (the fuzz seeds), mutations of them and
// random bytes. The assertion that matters is the sanitizer's: in the ASan+UBSan build (with
// _GLIBCXX_ASSERTIONS) any read past the input aborts the test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>

#include "scsi/attribute.hpp"
#include "scsi/condition.hpp"
#include "scsi/density.hpp"
#include "scsi/inquiry.hpp"
#include "scsi/log_pages.hpp"
#include "scsi/mode_pages.hpp"
#include "scsi/position.hpp"
#include "scsi/timeouts.hpp"
#include "test_support.hpp"

using namespace tapestream::scsi;
using tapestream::test::Bytes;

namespace {

using Parser = std::function<void(ByteView)>;

struct NamedParser {
  const char* seed_dir;
  Parser parse;
};

void touch_sense(ByteView b) {
  (void)normalise_sense(b);
  CompletionStatus status;
  status.scsi_status = static_cast<std::uint8_t>(ScsiStatus::check_condition);
  status.sense = b;
  (void)classify(cdb::read6_variable(Count24::from(65536).value(), false), status);
}

const NamedParser parsers[] = {
    {"sense", touch_sense},
    {"read_position",
     [](ByteView b) {
       for (auto form : {cdb::ReadPositionForm::short_block_id, cdb::ReadPositionForm::long_form,
                         cdb::ReadPositionForm::extended}) {
         (void)parse_read_position(form, b);
       }
     }},
    {"block_limits", [](ByteView b) { (void)parse_block_limits(b); }},
    {"mode_sense",
     [](ByteView b) {
       for (auto parsed : {parse_mode_sense6(b), parse_mode_sense10(b)}) {
         if (!parsed) {
           continue;
         }
         for (const auto& page : parsed.value().pages) {
           (void)DataCompressionPage::from(page);
           (void)DeviceConfigurationPage::from(page);
           (void)DataProtectionPage::from(page);
         }
       }
     }},
    {"log_sense",
     [](ByteView b) {
       if (auto page = parse_log_page(b)) {
         (void)parse_tape_alerts(page.value());
         for (const auto& p : page.value().parameters) {
           (void)p.as_integer();
           (void)p.as_text();
         }
       }
     }},
    {"inquiry",
     [](ByteView b) {
       (void)parse_standard_inquiry(b);
       (void)parse_supported_vpd_pages(b);
       (void)parse_unit_serial_number(b);
       if (auto ids = parse_device_identification(b)) {
         for (const auto& d : ids.value()) {
           (void)d.to_string();
         }
       }
     }},
    {"density",
     [](ByteView b) {
       (void)parse_density_support(b);
       (void)parse_medium_type_support(b);
     }},
    {"attribute",
     [](ByteView b) {
       if (auto list = parse_attribute_values(b)) {
         for (const auto& a : list.value()) {
           (void)a.as_integer();
           (void)a.as_text();
         }
       }
     }},
    {"supported_opcodes",
     [](ByteView b) {
       if (auto list = parse_supported_operation_codes(b)) {
         auto table = TimeoutTable::lto_defaults();
         (void)table.adopt_drive_timeouts(list.value());
       }
     }},
};

std::vector<Bytes> seeds(const char* dir) {
  std::vector<Bytes> out;
  const std::filesystem::path path = std::filesystem::path{TAPESTREAM_SEED_DIR} / dir;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    std::ifstream in(entry.path(), std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

class EveryParser : public ::testing::TestWithParam<NamedParser> {};

TEST_P(EveryParser, EveryPrefixOfRealisticResponses) {
  const auto inputs = seeds(GetParam().seed_dir);
  ASSERT_FALSE(inputs.empty());
  for (const auto& input : inputs) {
    for (std::size_t n = 0; n <= input.size(); ++n) {
      // An exactly sized copy, so that a read past n is a read past the allocation.
      const Bytes prefix(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(n));
      GetParam().parse(prefix);
    }
  }
}

TEST_P(EveryParser, MutatedResponses) {
  std::mt19937 random{20261121};
  for (const auto& input : seeds(GetParam().seed_dir)) {
    for (int round = 0; round < 300; ++round) {
      Bytes mutated = input;
      const auto flips = 1 + random() % 4;
      for (unsigned i = 0; i < flips && !mutated.empty(); ++i) {
        mutated[random() % mutated.size()] = static_cast<std::uint8_t>(random());
      }
      mutated.resize(random() % (mutated.size() + 16));
      GetParam().parse(mutated);
    }
  }
}

TEST_P(EveryParser, RandomBytes) {
  std::mt19937 random{7};
  for (int round = 0; round < 2000; ++round) {
    Bytes bytes(random() % 300);
    for (auto& b : bytes) {
      b = static_cast<std::uint8_t>(random());
    }
    GetParam().parse(bytes);
  }
}

INSTANTIATE_TEST_SUITE_P(Robustness, EveryParser, ::testing::ValuesIn(parsers),
                         [](const auto& p) { return std::string{p.param.seed_dir}; });

}  // namespace

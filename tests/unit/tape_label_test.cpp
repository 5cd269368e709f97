// The volume label and the trailers of a labelled tape (server/tape_label.hpp): what is
// written reads back, and what a tape may hold instead is refused, never taken for a label.
#include "server/tape_label.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tapestream::server::tape_label {
namespace {

using namespace std::chrono_literals;

std::span<const std::uint8_t> bytes_of(const std::string& text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

Trailer sample_trailer() {
  Trailer t;
  t.volume = "0f8fad5b-d9cb-469f-a165-70867728950e";
  t.file = 3;
  t.label = "etc \"nightly\"\nsecond line";
  t.bytes = 1000;
  t.blocks = 1;
  t.block_size = 262144;
  t.sha256 = base::Sha256Digest{};
  t.sha256->fill(0xAB);
  t.started = std::chrono::system_clock::from_time_t(1'764'000'000);
  t.ended = t.started + 5s;
  t.uid = 1000;
  return t;
}

TEST(TapeLabel, VolumeLabelRoundTrips) {
  VolumeLabel v{"weekly-07", new_uuid(), std::chrono::system_clock::from_time_t(1'764'000'000),
                "EMU00001", "tapestreamd 0.1"};
  const auto block = encode(v);
  ASSERT_EQ(block.back(), '\n');  // dd ... count=1 prints a line
  const auto back = parse_volume_label(block);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->label, v.label);
  EXPECT_EQ(back->uuid, v.uuid);
  EXPECT_EQ(back->created, v.created);
  EXPECT_EQ(back->medium_serial, v.medium_serial);
  EXPECT_EQ(back->writer, v.writer);
  EXPECT_FALSE(parse_trailer(block)) << "a volume label is no trailer";
}

TEST(TapeLabel, TrailerRoundTripsWithQuotesAndNewlines) {
  const auto t = sample_trailer();
  const auto block = encode(t);
  const std::string text{block.begin(), block.end()};
  EXPECT_NE(text.find("\"sha256\":\"abab"), std::string::npos) << text;
  EXPECT_NE(text.find("\"started\":\"2025-11-24T16:00:00Z\""), std::string::npos) << text;
  const auto back = parse_trailer(block);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->label, t.label);
  EXPECT_EQ(back->sha256, t.sha256);
  EXPECT_EQ(back->ended, t.ended);
  EXPECT_EQ(back->status, TrailerStatus::complete);
  EXPECT_FALSE(parse_volume_label(block));
}

TEST(TapeLabel, OverlongTextIsCutToKeepTheBlockSmall) {
  auto t = sample_trailer();
  t.label = std::string(100'000, 'x') + "\xC3\xA9";
  const auto block = encode(t);
  EXPECT_LE(block.size(), max_block);
  const auto back = parse_trailer(block);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->label.size(), 255U);
}

TEST(TapeLabel, RefusesWhatIsNotALabel) {
  for (const std::string& text : {
           std::string{},
           std::string{"not json"},
           std::string{"[1,2]"},
           std::string{R"({"tapestream":"volume","format":2,"label":"a","uuid":"0f8fad5b-d9cb-469f-a165-70867728950e","created":"2026-01-01T00:00:00Z"})"},
           std::string{R"({"tapestream":"volume","format":1,"label":"a","uuid":"not-a-uuid","created":"2026-01-01T00:00:00Z"})"},
           std::string{R"({"tapestream":"volume","format":1,"label":"a","uuid":"0f8fad5b-d9cb-469f-a165-70867728950e","created":"yesterday"})"},
           std::string{R"({"tapestream":"volume","format":1,"label":7,"uuid":"0f8fad5b-d9cb-469f-a165-70867728950e","created":"2026-01-01T00:00:00Z"})"},
           std::string{R"({"tapestream":"volume","format":1,"label":"a","uuid":"0f8fad5b-d9cb-469f-a165-70867728950e","created":"2026-01-01T00:00:00Z"} trailing)"},
           std::string{R"({"tapestream":"volume","format":1,"label":"a","uuid":"0f8fad5b-d9cb-469f-a165-70867728950e","created":"0000-01-01T00:00:00Z"})"},
       }) {
    EXPECT_FALSE(parse_volume_label(bytes_of(text))) << text;
  }
  const std::string good = R"({"tapestream":"volume","format":1,"label":"a","uuid":"0f8fad5b-d9cb-469f-a165-70867728950e","created":"2026-01-01T00:00:00.25Z","extra":{"x":[1]}})";
  EXPECT_TRUE(parse_volume_label(bytes_of(good))) << "unknown keys are ignored";
  const std::string deep = std::string(100'000, '[');
  EXPECT_FALSE(parse_volume_label(bytes_of(deep)));
}

TEST(TapeLabel, TrailerWithBadFieldsIsData) {
  auto text = std::string{reinterpret_cast<const char*>(encode(sample_trailer()).data()),
                          encode(sample_trailer()).size()};
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\"bytes\":1000", "\"bytes\":-1"},
           {"\"bytes\":1000", "\"bytes\":1e3"},
           {"\"mode\":\"variable\"", "\"mode\":\"other\""},
           {"\"status\":\"complete\"", "\"status\":\"fine\""},
           {"\"uid\":1000", "\"uid\":99999999999"},
           {"\"sha256\":\"abab", "\"sha256\":\"zzab"}}) {
    auto bad = text;
    const auto at = bad.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    bad.replace(at, from.size(), to);
    EXPECT_FALSE(parse_trailer(bytes_of(bad))) << bad;
  }
}

TEST(TapeLabel, DescribesOnlyTheFileItFollows) {
  const auto t = sample_trailer();
  const ScannedFile data{3, 1000, 1, t.sha256};
  EXPECT_TRUE(describes(t, t.volume, data));
  EXPECT_FALSE(describes(t, "11111111-2222-4333-8444-555555555555", data)) << "another volume";
  EXPECT_FALSE(describes(t, t.volume, {2, 1000, 1, t.sha256})) << "another file";
  EXPECT_FALSE(describes(t, t.volume, {3, 999, 1, t.sha256})) << "another size";
  EXPECT_FALSE(describes(t, t.volume, {3, 1000, 2, t.sha256})) << "another block count";
  auto other = t.sha256;
  (*other)[0] ^= 1;
  EXPECT_FALSE(describes(t, t.volume, {3, 1000, 1, other})) << "another digest";

  auto fixed = t;
  fixed.fixed = true;
  fixed.padding = 24;
  EXPECT_TRUE(describes(fixed, t.volume, {3, 1024, 1, other})) << "padding read back";
  EXPECT_FALSE(describes(fixed, t.volume, {3, 1000, 1, t.sha256})) << "padding missing";

  auto cut = t;
  cut.status = TrailerStatus::interrupted;
  cut.sha256.reset();
  EXPECT_TRUE(describes(cut, t.volume, data));
  // A stream written without a digest (WRITE flag 128) has a complete trailer that says
  // "sha256":"none": the volume, file, bytes and blocks must still match.
  auto undigested = t;
  undigested.sha256.reset();
  const auto block = encode(undigested);
  const std::string text(block.begin(), block.end());
  EXPECT_NE(text.find("\"sha256\":\"none\""), std::string::npos) << text;
  const auto back = parse_trailer(block);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->sha256);
  EXPECT_TRUE(describes(*back, t.volume, data)) << "complete, written without a digest";
  EXPECT_FALSE(describes(*back, t.volume, {3, 999, 1, t.sha256})) << "without a digest, another size";
  // review5 #4: a complete trailer with no sha256 field at all is no trailer: data shaped like
  // one would otherwise pass on its counts alone.
  auto missing = text;
  missing.erase(missing.find(",\"sha256\":\"none\""), std::string{",\"sha256\":\"none\""}.size());
  EXPECT_EQ(missing.find("sha256"), std::string::npos) << missing;
  EXPECT_FALSE(parse_trailer(bytes_of(missing))) << missing;
  // An interrupted one has no digest and needs none.
  cut.sha256.reset();
  const auto cut_block = encode(cut);
  EXPECT_EQ(std::string(cut_block.begin(), cut_block.end()).find("sha256"), std::string::npos);
  EXPECT_TRUE(parse_trailer(cut_block));
}

TEST(TapeLabel, VolumeNames) {
  EXPECT_FALSE(name_refused("weekly-07"));
  EXPECT_FALSE(name_refused("Sicherung März"));
  EXPECT_TRUE(name_refused(""));
  EXPECT_TRUE(name_refused(std::string(65, 'x')));
  EXPECT_TRUE(name_refused("a\nb"));
  EXPECT_TRUE(name_refused("\xFF"));
}

TEST(TapeLabel, UuidsAreVersion4AndDiffer) {
  const auto a = new_uuid();
  const auto b = new_uuid();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36U);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(std::string{"89ab"}.find(a[19]), std::string::npos);
}

}  // namespace
}  // namespace tapestream::server::tape_label

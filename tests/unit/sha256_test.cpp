// base::Sha256 against the FIPS 180-2 example vectors (appendix B), fed in the odd pieces a
// stream gives it: the daemon hashes each receive as it lands, whatever its size.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "base/sha256.hpp"

using tapestream::base::Sha256;
using tapestream::base::to_hex;

namespace {

std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TEST(Sha256, EmptyInput) {
  Sha256 hash;
  EXPECT_EQ(to_hex(hash.finish()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, Abc) {
  Sha256 hash;
  hash.update(bytes_of("abc"));
  EXPECT_EQ(to_hex(hash.finish()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, FourHundredFortyEightBitMessage) {
  Sha256 hash;
  hash.update(bytes_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"));
  EXPECT_EQ(to_hex(hash.finish()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, OneMillionAInOddPieces) {
  const std::string as(1'000'000, 'a');
  Sha256 hash;
  // Pieces below, at and across the 64-byte block, over and over: no piece boundary may matter.
  constexpr std::size_t pieces[] = {1, 3, 63, 64, 65, 127, 997, 4093};
  std::size_t at = 0;
  for (std::size_t k = 0; at < as.size(); ++k) {
    const auto take = std::min(pieces[k % std::size(pieces)], as.size() - at);
    hash.update(bytes_of(std::string_view{as}.substr(at, take)));
    at += take;
  }
  hash.update({});  // an empty piece changes nothing
  EXPECT_EQ(to_hex(hash.finish()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, StartsAgainAfterFinish) {
  Sha256 hash;
  hash.update(bytes_of("something else"));
  (void)hash.finish();
  hash.update(bytes_of("abc"));
  EXPECT_EQ(to_hex(hash.finish()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, SurvivesAMove) {
  Sha256 first;
  first.update(bytes_of("ab"));
  Sha256 second{std::move(first)};
  second.update(bytes_of("c"));
  EXPECT_EQ(to_hex(second.finish()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace

// SHA-256 of a stream's bytes through OpenSSL's libcrypto (EVP), which uses the CPU's SHA
// extensions (SHA-NI) where it has them. No hashing is written by hand here: this only owns the
// EVP context and gives the digest a type.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace tapestream::base {

using Sha256Digest = std::array<std::uint8_t, 32>;

class Sha256 {
 public:
  // Throws StartupError when libcrypto offers no SHA-256 (a broken installation): the daemon
  // makes one at start-up (require_sha256) so that this never happens on a stream's path.
  Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  ~Sha256();

  void update(std::span<const std::uint8_t> bytes);
  // The digest of everything given since construction or the last finish(); the hash then
  // starts again, empty.
  Sha256Digest finish();

 private:
  struct ContextFree {
    void operator()(void* context) const;
  };
  std::unique_ptr<void, ContextFree> _context;  // an EVP_MD_CTX, kept out of this header
};

// Start-up's check that SHA-256 is there (throws StartupError otherwise); the algorithm is
// fetched from libcrypto once per process, the first time it is needed.
void require_sha256();

// 64 lowercase hex digits, as sha256sum prints them.
std::string to_hex(const Sha256Digest& digest);

}  // namespace tapestream::base

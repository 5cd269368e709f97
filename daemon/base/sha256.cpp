#include "base/sha256.hpp"

#include <openssl/evp.h>

#include <new>

#include "base/startup_error.hpp"

namespace tapestream::base {
namespace {

// Fetched once: EVP_MD_fetch looks the algorithm up in the provider's tables, which is not
// something to do per stream. The static lives as long as the process, as libcrypto's own do.
const EVP_MD* sha256_algorithm() {
  static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (algorithm == nullptr) {
    throw StartupError{"libcrypto offers no SHA-256 (EVP_MD_fetch failed); check the OpenSSL "
                       "installation and its configuration (OPENSSL_CONF)"};
  }
  return algorithm;
}


void start(EVP_MD_CTX* context) {
  // With a fetched SHA-256 and a fresh context only an allocation can fail here.
  if (EVP_DigestInit_ex2(context, sha256_algorithm(), nullptr) != 1) {
    throw std::bad_alloc{};
  }
}

}  // namespace

void Sha256::ContextFree::operator()(void* context) const {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(context));
}

Sha256::Sha256() : _context{EVP_MD_CTX_new()} {
  if (!_context) {
    throw std::bad_alloc{};
  }
  start(static_cast<EVP_MD_CTX*>(_context.get()));
}

Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;
Sha256::~Sha256() = default;

void Sha256::update(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) {
    return;
  }
  // SHA-256 in libcrypto's default provider cannot fail on an initialised context.
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(_context.get()), bytes.data(), bytes.size());
}

Sha256Digest Sha256::finish() {
  Sha256Digest digest{};
  auto* context = static_cast<EVP_MD_CTX*>(_context.get());
  EVP_DigestFinal_ex(context, digest.data(), nullptr);
  start(context);
  return digest;
}

void require_sha256() { sha256_algorithm(); }

std::string to_hex(const Sha256Digest& digest) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text;
  text.reserve(digest.size() * 2);
  for (const auto byte : digest) {
    text += digits[byte >> 4];
    text += digits[byte & 0x0F];
  }
  return text;
}

}  // namespace tapestream::base

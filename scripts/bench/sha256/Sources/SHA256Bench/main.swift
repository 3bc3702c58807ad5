import COpenSSL
import Crypto
import Foundation

// Usage: SHA256Bench CORPUS LARGE_FILE
// CORPUS is cut into 20,000 pieces of 150 to 1,500 bytes (the sizes of chunks; the corpus is
// reused when it is shorter); LARGE_FILE is hashed whole (a model's weights, as `git rag model
// pull` verifies them).
let arguments = CommandLine.arguments
guard arguments.count == 3, let corpus = FileManager.default.contents(atPath: arguments[1]),
  let large = FileManager.default.contents(atPath: arguments[2])
else {
  FileHandle.standardError.write(Data("usage: SHA256Bench CORPUS LARGE_FILE\n".utf8))
  exit(2)
}
let sizes = [1_500, 800, 300, 1_200, 150, 1_000, 600, 1_400]
var pieces: [[UInt8]] = []
var offset = 0
while pieces.count < 20_000 {
  let size = sizes[pieces.count % sizes.count]
  if offset + size > corpus.count { offset = 0 }
  pieces.append(Array(corpus[offset..<offset + size]))
  offset += size
}

func hexString<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var out = [UInt8]()
  for byte in bytes {
    out.append(digits[Int(byte >> 4)])
    out.append(digits[Int(byte & 0x0f)])
  }
  return String(decoding: out, as: UTF8.self)
}

func openSSLOneShotHex(_ bytes: UnsafeRawBufferPointer) -> String {
  var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
  _ = COpenSSL.SHA256(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, &digest)
  return hexString(digest)
}

func openSSLHex(_ bytes: UnsafeRawBufferPointer) -> String {
  var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
  var length: UInt32 = 0
  _ = EVP_Digest(bytes.baseAddress, bytes.count, &digest, &length, EVP_sha256(), nil)
  return hexString(digest)
}

struct Implementation {
  let name: String
  let hex: ([UInt8]) -> String
  let hexData: (Data) -> String
}

let implementations = [
  Implementation(name: "hand-written Swift", hex: { HandWrittenSHA256.hex($0) }, hexData: { HandWrittenSHA256.hex($0) }),
  Implementation(
    name: "swift-crypto (BoringSSL)", hex: { hexString(Crypto.SHA256.hash(data: $0)) },
    hexData: { hexString(Crypto.SHA256.hash(data: $0)) }),
  Implementation(
    name: "OpenSSL libcrypto (EVP)", hex: { $0.withUnsafeBytes(openSSLHex) }, hexData: { $0.withUnsafeBytes(openSSLHex) }),
  Implementation(
    name: "OpenSSL libcrypto (SHA256)", hex: { $0.withUnsafeBytes(openSSLOneShotHex) },
    hexData: { $0.withUnsafeBytes(openSSLOneShotHex) }),
]

/// Best of `runs` wall-clock seconds.
func best(_ runs: Int, _ body: () -> Void) -> Double {
  var result = Double.infinity
  for _ in 0..<runs {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    result = min(result, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
  }
  return result
}

// All three must agree before any is timed.
let reference = implementations[0]
for implementation in implementations.dropFirst() {
  for piece in pieces.prefix(200) where implementation.hex(piece) != reference.hex(piece) {
    print("MISMATCH: \(implementation.name) differs from \(reference.name)")
    exit(1)
  }
  if implementation.hexData(large) != reference.hexData(large) {
    print("MISMATCH on the large file: \(implementation.name)")
    exit(1)
  }
}

let smallMB = Double(pieces.reduce(0) { $0 + $1.count }) / 1_048_576
let largeMB = Double(large.count) / 1_048_576
let megabytes = (String(format: "%.1f", smallMB), String(format: "%.1f", largeMB))
print("inputs: \(pieces.count) pieces of 150 to 1,500 bytes (\(megabytes.0) MiB), one file of \(megabytes.1) MiB")
for implementation in implementations {
  var sink = 0
  let small = best(5) { for piece in pieces { sink &+= implementation.hex(piece).utf8.count } }
  let whole = best(3) { sink &+= implementation.hexData(large).utf8.count }
  precondition(sink > 0)
  print(
    String(
      format: "BENCH sha256 %-26@ small: %7.1f ms (%6.2f µs/piece, %6.0f MiB/s)   large: %7.1f ms (%6.0f MiB/s)",
      implementation.name as NSString, small * 1000, small * 1e6 / Double(pieces.count), smallMB / small, whole * 1000,
      largeMB / whole))
}

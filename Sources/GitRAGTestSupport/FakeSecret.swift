/// Fake secrets, built at run time so that no token-shaped literal sits in the sources.
public enum FakeSecret {
  public static let alnum = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
  public static let upper = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
  public static let hex = Array("0123456789abcdef")
  public static let base64 = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
  public static let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

  /// `count` characters of `alphabet`, pseudo-random but the same for the same `seed`.
  public static func string(_ alphabet: [Character], _ count: Int, seed: UInt64 = 1) -> String {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return String(
      (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return alphabet[Int(state % UInt64(alphabet.count))]
      })
  }
}

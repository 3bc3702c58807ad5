import Foundation
import GitRAGCore
import Testing

@Suite struct TimestampTests {
  @Test func matchesFoundationsISO8601FormatterAcrossCenturiesAndLeapDays() {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    var random = SystemRandomNumberGenerator()
    // Leap days, century boundaries, the epoch, before the epoch, and random instants.
    var instants = [0, -1, 951_782_400, 951_868_799, 4_107_542_400, 1_700_000_000, -2_208_988_800, 253_402_300_799]
    for _ in 0..<2_000 { instants.append(Int.random(in: -4_000_000_000...8_000_000_000, using: &random)) }
    for seconds in instants {
      let expected = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
      #expect(Timestamp.string(secondsSince1970: seconds) == expected, "at \(seconds)")
    }
  }

  @Test func nowIsTheCurrentSecond() throws {
    let parsed = try #require(ISO8601DateFormatter().date(from: Timestamp.now()))
    #expect(abs(parsed.timeIntervalSinceNow) < 5)
  }
}

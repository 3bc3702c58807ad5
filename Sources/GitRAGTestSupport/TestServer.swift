import Foundation

/// A helper server (a Python script under `scripts/testservers/`) run as a child process on
/// 127.0.0.1 and a free port. The script binds port 0 and prints `LISTENING <port>` on stdout.
public final class TestServer: @unchecked Sendable {
  // @unchecked: `process` and `port` are set once in init; `stop` is idempotent.
  public let port: Int
  public let process: Process
  public var baseURL: String { "http://127.0.0.1:\(port)" }

  /// The repository root, found from this source file's location.
  public static var repositoryRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
  }

  /// Starts `scripts/testservers/<script>` with `arguments` and waits (up to `timeout`) for its port.
  public init(script: String, arguments: [String] = [], environment: [String: String] = [:], timeout: TimeInterval = 60) throws {
    let path = Self.repositoryRoot.appendingPathComponent("scripts/testservers/\(script)").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-u", path, "--host", "127.0.0.1", "--port", "0"] + arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.standardError
    try process.run()
    self.process = process

    let reader = out.fileHandleForReading
    let deadline = Date().addingTimeInterval(timeout)
    var buffer = Data()
    var found: Int?
    while found == nil, Date() < deadline, process.isRunning {
      let chunk = reader.availableData
      if chunk.isEmpty { Thread.sleep(forTimeInterval: 0.02); continue }
      buffer.append(chunk)
      for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") where line.hasPrefix("LISTENING ") {
        found = Int(line.dropFirst("LISTENING ".count).trimmingCharacters(in: .whitespaces))
      }
    }
    guard let port = found else {
      process.terminate()
      throw TestServerError(message: "\(script) did not report a port within \(Int(timeout))s")
    }
    self.port = port
    // Keep draining stdout so the server never blocks on a full pipe.
    reader.readabilityHandler = { handle in _ = handle.availableData }
  }

  /// Stops the server (SIGTERM, then SIGKILL).
  public func stop() {
    guard process.isRunning else { return }
    process.terminate()
    // Children of Foundation's Process may start with SIGTERM blocked: do not wait long for it.
    let deadline = Date().addingTimeInterval(0.5)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
  }

  deinit { stop() }
}

public struct TestServerError: Error, CustomStringConvertible {
  public let message: String
  public init(message: String) { self.message = message }
  public var description: String { message }
}

import Foundation
import GitRAGCore

/// Finds and runs the external tools runtimes drive (`docker`, `kubectl`, the worker binary).
struct ToolProcess: Sendable {
  let environment: [String: String]

  struct Result: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// The first executable `name` on `PATH`, or nil.
  func locate(_ name: String) -> URL? {
    if name.contains("/") {
      return FileManager.default.isExecutableFile(atPath: name) ? URL(fileURLWithPath: name) : nil
    }
    let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for folder in path.split(separator: ":") where !folder.isEmpty {
      let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    return nil
  }

  /// Runs `executable` to completion. With `capture`, stdout and stderr are collected; otherwise
  /// they go to this process's own, so the user sees the worker's output as it happens.
  func run(_ executable: URL, _ arguments: [String], input: Data? = nil, capture: Bool) async throws -> Result {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = environment
    let stdinPipe = Pipe()
    process.standardInput = input == nil ? FileHandle.nullDevice : stdinPipe
    let out = Pipe(), err = Pipe()
    if capture {
      process.standardOutput = out
      process.standardError = err
    }
    let finished = AsyncExit()
    process.terminationHandler = { finished.signal($0.terminationStatus) }
    try process.run()
    if let input {
      // Written from another thread so a child that talks before reading cannot deadlock us.
      let writer = stdinPipe.fileHandleForWriting
      DispatchQueue.global().async {
        writer.write(input)
        try? writer.close()
      }
    }
    var stdout = Data(), stderr = Data()
    if capture {
      async let errData = Self.readAll(err.fileHandleForReading)
      stdout = await Self.readAll(out.fileHandleForReading)
      stderr = await errData
    }
    let status = await finished.wait()
    return Result(status: status, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
  }

  /// Starts `executable` and returns its process id without waiting.
  func start(_ executable: URL, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = environment
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return process.processIdentifier
  }

  private static func readAll(_ handle: FileHandle) async -> Data {
    await withCheckedContinuation { continuation in
      DispatchQueue.global().async { continuation.resume(returning: handle.readDataToEndOfFile()) }
    }
  }
}

/// A one-shot signal carrying an exit status from `Process.terminationHandler` to an async waiter.
final class AsyncExit: Sendable {
  private struct State {
    var status: Int32?
    var waiter: CheckedContinuation<Int32, Never>?
  }
  private let state = Locked(State())

  func signal(_ value: Int32) {
    let continuation = state.withLock { state in
      state.status = value
      defer { state.waiter = nil }
      return state.waiter
    }
    continuation?.resume(returning: value)
  }

  func wait() async -> Int32 {
    await withCheckedContinuation { continuation in
      let ready: Int32? = state.withLock { state in
        if let status = state.status { return status }
        state.waiter = continuation
        return nil
      }
      if let ready { continuation.resume(returning: ready) }
    }
  }
}

import Foundation

/// The outcome of running a program to completion.
public struct ProcessResult: Sendable {
  public var status: Int32
  public var stdout: String
  public var stderr: String
}

public struct ProcessFailure: Error, CustomStringConvertible {
  public let command: [String]
  public let result: ProcessResult
  public var description: String {
    "\(command.joined(separator: " ")) exited \(result.status): \(result.stderr)\(result.stdout)"
  }
}

/// Runs `executable` with `arguments` and waits; stdin is empty.
@discardableResult
public func runProcess(
  _ executable: String, _ arguments: [String], in directory: URL? = nil,
  environment: [String: String]? = nil, input: Data? = nil, check: Bool = true
) throws -> ProcessResult {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
  process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
  if let directory { process.currentDirectoryURL = directory }
  if let environment { process.environment = environment }
  let out = Pipe(), err = Pipe(), inPipe = Pipe()
  process.standardOutput = out
  process.standardError = err
  process.standardInput = inPipe
  try process.run()
  if let input { inPipe.fileHandleForWriting.write(input) }
  try? inPipe.fileHandleForWriting.close()
  // Read both pipes concurrently so a chatty child cannot fill one and block.
  let errData = ThreadSafeBox<Data>(Data())
  let group = DispatchGroup()
  group.enter()
  DispatchQueue.global().async {
    errData.value = err.fileHandleForReading.readDataToEndOfFile()
    group.leave()
  }
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  group.wait()
  process.waitUntilExit()
  let result = ProcessResult(
    status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
    stderr: String(decoding: errData.value, as: UTF8.self))
  if check && result.status != 0 { throw ProcessFailure(command: [executable] + arguments, result: result) }
  return result
}

final class ThreadSafeBox<Value>: @unchecked Sendable {
  // @unchecked: every access goes through `lock`.
  private let lock = NSLock()
  private var _value: Value
  init(_ value: Value) { _value = value }
  var value: Value {
    get { lock.withLock { _value } }
    set { lock.withLock { _value = newValue } }
  }
}

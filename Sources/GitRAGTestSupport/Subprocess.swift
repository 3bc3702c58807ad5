import Foundation
import GitRAGCore

#if canImport(Glibc)
  import Glibc
#endif

/// The outcome of running a program to completion.
public struct ProcessResult: Sendable {
  public var status: Int32
  public var stdout: String
  public var stderr: String

  public init(status: Int32, stdout: String, stderr: String) {
    self.status = status
    self.stdout = stdout
    self.stderr = stderr
  }
}

public struct ProcessFailure: Error, CustomStringConvertible {
  public let command: [String]
  public let result: ProcessResult
  public var description: String {
    "\(command.joined(separator: " ")) exited \(result.status): \(result.stderr)\(result.stdout)"
  }
}

/// A child process started with `posix_spawn` and reaped with `waitpid`.
///
/// Foundation's `Process` on Linux can miss a child's exit when many children start from several
/// threads at once, leaving `waitUntilExit` spinning on a zombie; tests spawn hundreds of git
/// processes in parallel, so they use this instead.
public final class SpawnedProcess: @unchecked Sendable {
  // @unchecked: `pid` and the descriptors are fixed at init; `wait` is called once.
  public let pid: pid_t
  /// Read end of the child's stdout (and stderr when not captured separately).
  public let stdout: FileHandle
  public let stderr: FileHandle
  private let stdin: FileHandle

  /// Keeps another spawn out of the moment between creating a pipe and marking it close-on-exec.
  private static let spawnLock = Locked(())

  /// Starts `executable` (a path, or a name looked up on PATH) with `arguments`.
  public init(_ executable: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil) throws {
    let spawned = try Self.spawnLock.withLock { _ in try Self.spawn(executable, arguments, in: directory, environment: environment) }
    pid = spawned.pid
    stdout = FileHandle(fileDescriptor: spawned.stdout, closeOnDealloc: true)
    stderr = FileHandle(fileDescriptor: spawned.stderr, closeOnDealloc: true)
    stdin = FileHandle(fileDescriptor: spawned.stdin, closeOnDealloc: true)
  }

  /// Spawns the child; returns its pid and this side's ends of its stdout, stderr and stdin.
  private static func spawn(
    _ executable: String, _ arguments: [String], in directory: URL?, environment: [String: String]?
  ) throws -> (pid: pid_t, stdout: Int32, stderr: Int32, stdin: Int32) {
    var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0], inPipe: [Int32] = [0, 0]
    // Close-on-exec: children that tests spawn at the same time must not inherit these ends (a
    // child holding another's stdin write end keeps it from ever seeing end of file). The dup2
    // onto 0, 1 and 2 below clears the flag for this child's own copies; the caller holds
    // `spawnLock`.
    guard pipe(&outPipe) == 0, pipe(&errPipe) == 0, pipe(&inPipe) == 0 else {
      throw SpawnError(message: "pipe failed: \(String(cString: strerror(errno)))")
    }
    for fd in outPipe + errPipe + inPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
    for fd in outPipe + errPipe + inPipe { posix_spawn_file_actions_addclose(&actions, fd) }

    let env = environment ?? ProcessInfo.processInfo.environment
    // GNU env changes folder (-C) and looks the program up on the child's PATH.
    let program = "/usr/bin/env"
    let argv = ["env"] + (directory.map { ["-C", $0.path] } ?? []) + [executable] + arguments
    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for pointer in cArgs { free(pointer) }
      for pointer in cEnv { free(pointer) }
    }
    var child: pid_t = 0
    let rc = posix_spawn(&child, program, &actions, nil, cArgs, cEnv)
    close(outPipe[1])
    close(errPipe[1])
    close(inPipe[0])
    guard rc == 0 else {
      close(outPipe[0]); close(errPipe[0]); close(inPipe[1])
      throw SpawnError(message: "cannot start \(executable): \(String(cString: strerror(rc)))")
    }
    return (child, outPipe[0], errPipe[0], inPipe[1])
  }

  /// Writes `data` to the child's stdin and closes it.
  public func send(_ data: Data?) {
    if let data, !data.isEmpty { try? stdin.write(contentsOf: data) }
    try? stdin.close()
  }

  /// Waits for the child to exit; returns its exit status (128 + signal when killed).
  public func wait() -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    if status & 0x7f == 0 { return (status >> 8) & 0xff }
    return 128 + (status & 0x7f)
  }

  public func signal(_ signal: Int32) { kill(pid, signal) }
}

public struct SpawnError: Error, CustomStringConvertible {
  public let message: String
  public var description: String { message }
}

/// Runs `executable` with `arguments` and waits; stdin gets `input` (or nothing).
@discardableResult
public func runProcess(
  _ executable: String, _ arguments: [String], in directory: URL? = nil,
  environment: [String: String]? = nil, input: Data? = nil, check: Bool = true
) throws -> ProcessResult {
  let child = try SpawnedProcess(executable, arguments, in: directory, environment: environment)
  // Read stderr on another thread so a chatty child cannot fill one pipe and block.
  let errData = Locked<Data>(Data())
  let group = DispatchGroup()
  group.enter()
  DispatchQueue.global().async {
    errData.withLock { $0 = child.stderr.readDataToEndOfFile() }
    group.leave()
  }
  child.send(input)
  let outData = child.stdout.readDataToEndOfFile()
  group.wait()
  let status = child.wait()
  let result = ProcessResult(
    status: status, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData.withLock { $0 }, as: UTF8.self))
  if check && result.status != 0 { throw ProcessFailure(command: [executable] + arguments, result: result) }
  return result
}

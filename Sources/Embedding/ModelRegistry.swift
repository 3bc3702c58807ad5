import Foundation
import GitRAGCore
import HTTPTransport

/// Why `git rag model pull` failed.
public enum ModelDownloadError: UserFacingError, Equatable {
  case invalidName(String)
  case unreachable(url: String, reason: String)
  case httpStatus(url: String, status: Int)
  case checksumMismatch(path: String, expected: String, actual: String)
  case incomplete(url: String, received: Int64, expected: Int64)

  public var errorDescription: String? {
    switch self {
    case let .invalidName(name):
      "\(name.debugDescription) is not a model name; use a Hugging Face model id such as all-MiniLM-L6-v2 or sentence-transformers/all-MiniLM-L6-v2."
    case let .unreachable(url, reason):
      "Cannot download \(url) (\(reason)). Check the network or HF_ENDPOINT, or run scripts/install-model; run the command again to resume."
    case let .httpStatus(url, status):
      "Downloading \(url) failed with HTTP \(status). Check the model name and HF_ENDPOINT."
    case let .checksumMismatch(path, expected, actual):
      "Downloaded \(path) has SHA-256 \(actual) but \(expected) was expected; the file was deleted, run the command again."
    case let .incomplete(url, received, expected):
      "The download of \(url) stopped after \(received) of \(expected) bytes; run the command again to resume."
    }
  }
}

/// Sentence-transformers models in the user's cache: `git rag model pull` and `git rag model list`.
public struct ModelRegistry: Sendable {
  /// A model folder in `modelsDirectory`.
  public struct InstalledModel: Sendable, Equatable {
    public let name: String
    public let path: URL
    /// Bytes of every file in the folder.
    public let size: Int64
    /// Whether `model.safetensors` and `config.json` are both there.
    public let isComplete: Bool
  }

  /// Files a sentence-transformers BERT model needs (the first three) or may carry.
  public static let files = [
    "config.json", "vocab.txt", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
    "sentence_bert_config.json", "modules.json", "1_Pooling/config.json",
  ]
  static let requiredFiles: Set<String> = ["config.json", "vocab.txt", "model.safetensors"]

  /// SHA-256 of files whose content we know, by model name then file.
  public static let knownDigests: [String: [String: String]] = [
    "all-MiniLM-L6-v2": ["model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"]
  ]

  public let modelsDirectory: URL
  public let endpoint: URL
  public let knownDigests: [String: [String: String]]

  /// `endpoint` defaults to `HF_ENDPOINT`, else https://huggingface.co.
  public init(
    modelsDirectory: URL = UserPaths.models, endpoint: URL? = nil,
    knownDigests: [String: [String: String]] = ModelRegistry.knownDigests
  ) {
    self.modelsDirectory = modelsDirectory
    self.endpoint = endpoint ?? URL(string: UserPaths.environment("HF_ENDPOINT") ?? "https://huggingface.co")!
    self.knownDigests = knownDigests
  }

  /// Installed model folders, sorted by name.
  public func list() throws -> [InstalledModel] {
    let manager = FileManager.default
    guard manager.fileExists(atPath: modelsDirectory.path) else { return [] }
    return try manager.contentsOfDirectory(at: modelsDirectory, includingPropertiesForKeys: [.isDirectoryKey])
      .filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }
      .map { folder in
        var size: Int64 = 0
        for case let file as URL in manager.enumerator(at: folder, includingPropertiesForKeys: [.fileSizeKey])
          ?? FileManager.DirectoryEnumerator()
        {
          size += Int64((try? file.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0)
        }
        let complete = ["model.safetensors", "config.json"].allSatisfy {
          manager.fileExists(atPath: folder.appendingPathComponent($0).path)
        }
        return InstalledModel(name: folder.lastPathComponent, path: folder, size: size, isComplete: complete)
      }
      .sorted { $0.name < $1.name }
  }

  /// Downloads `name` (`all-MiniLM-L6-v2` means `sentence-transformers/all-MiniLM-L6-v2`) into
  /// `modelsDirectory/<name>` and returns that folder. Files already there are kept; an interrupted
  /// download resumes from its `.partial` file with an HTTP Range request; known SHA-256 digests
  /// (ours, or the Hub's `X-Linked-Etag`) are verified before a file takes its final name.
  @discardableResult
  public func pull(_ name: String = LocalEmbedder.defaultModelName, progress: @Sendable (String) -> Void = { _ in }) async throws -> URL {
    let parts = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    let valid = parts.allSatisfy {
      !$0.isEmpty && $0 != "." && $0 != ".." && $0.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
    }
    guard valid, parts.count == 1 || parts.count == 2 else { throw ModelDownloadError.invalidName(name) }
    let repository = parts.count == 1 ? "sentence-transformers/\(name)" : name
    let folderName = parts.last!
    let folder = modelsDirectory.appendingPathComponent(folderName, isDirectory: true)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let digests = knownDigests[folderName] ?? [:]
    for file in Self.files {
      let destination = folder.appendingPathComponent(file)
      if FileManager.default.fileExists(atPath: destination.path) {
        if let expected = digests[file], try Self.sha256(of: destination) != expected {
          try FileManager.default.removeItem(at: destination)
        } else {
          progress("\(file): already there")
          continue
        }
      }
      let url = endpoint.appendingPathComponent(repository).appendingPathComponent("resolve/main").appendingPathComponent(file)
      try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
      do {
        let bytes = try await download(url, to: destination, expectedDigest: digests[file])
        progress("\(file): \(bytes) bytes")
      } catch ModelDownloadError.httpStatus(_, 404) where !Self.requiredFiles.contains(file) {
        progress("\(file): not in this model, skipped")
      }
    }
    return folder
  }

  /// Fetches `url` into `destination` through `destination.partial`; returns the file's size.
  private func download(_ url: URL, to destination: URL, expectedDigest: String?) async throws -> Int64 {
    let partial = destination.appendingPathExtension("partial")
    var attempt = 0
    while true {
      attempt += 1
      let existing = Self.size(of: partial)
      let outcome: RangeDownload.Outcome
      do { outcome = try await RangeDownload.run(url: url, partial: partial, offset: existing) } catch let error as ModelDownloadError {
        // A dropped connection that still delivered bytes is resumed right away, a few times.
        if case .unreachable = error, attempt < 4, Self.size(of: partial) > existing { continue }
        throw error
      }
      if outcome.status == 416, attempt == 1 {
        // The partial file is as long as (or longer than) the file: start over once.
        try? FileManager.default.removeItem(at: partial)
        continue
      }
      guard outcome.status == 200 || outcome.status == 206 else {
        throw ModelDownloadError.httpStatus(url: url.absoluteString, status: outcome.status)
      }
      let size = Self.size(of: partial)
      if let total = outcome.totalLength, size != total {
        throw ModelDownloadError.incomplete(url: url.absoluteString, received: size, expected: total)
      }
      if let expected = expectedDigest ?? outcome.advertisedDigest {
        let actual = try Self.sha256(of: partial)
        guard actual == expected.lowercased() else {
          try? FileManager.default.removeItem(at: partial)
          throw ModelDownloadError.checksumMismatch(path: destination.path, expected: expected, actual: actual)
        }
      }
      try? FileManager.default.removeItem(at: destination)
      try FileManager.default.moveItem(at: partial, to: destination)
      return size
    }
  }

  static func size(of file: URL) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? NSNumber)?.int64Value ?? 0
  }

  static func sha256(of file: URL) throws -> String {
    SHA256Digest.hex(try Data(contentsOf: file, options: .alwaysMapped))
  }
}

/// One HTTP GET streamed into a `.partial` file, continuing at `offset` with a Range request.
private final class RangeDownload: HTTPBodySink, @unchecked Sendable {
  // @unchecked: `begin` and `write` run one after the other on the transfer's thread, and `run`
  // reads the state only after the transfer ended.
  struct Outcome: Sendable {
    var status: Int
    /// The whole file's length, when the server said (Content-Length or Content-Range).
    var totalLength: Int64?
    /// SHA-256 the Hub advertises for LFS files (`X-Linked-Etag`, or a 64-hex `ETag`).
    var advertisedDigest: String?
  }

  private struct WriteFailure: Error { let error: Error }

  private static let client = HTTPClient()
  private let partial: URL
  private let offset: Int64
  private var outcome = Outcome(status: 0)
  private var handle: FileHandle?

  private init(partial: URL, offset: Int64) {
    self.partial = partial
    self.offset = offset
  }

  /// `GIT_RAG_IDLE_TIMEOUT` seconds (default 60) without a byte end a download.
  static var idleDeadline: TimeInterval {
    (try? DeadlineSetting.seconds("GIT_RAG_IDLE_TIMEOUT", in: ProcessInfo.processInfo.environment, default: 60)) ?? 60
  }

  static func run(url: URL, partial: URL, offset: Int64) async throws -> Outcome {
    let download = RangeDownload(partial: partial, offset: offset)
    // No overall timeout (a model is large): an idle deadline, which restarts with every byte.
    var request = HTTPRequest(url: url, timeout: nil, idleTimeout: idleDeadline, followRedirects: true)
    if offset > 0 { request.setHeader("Range", "bytes=\(offset)-") }
    let response: HTTPResponse
    do {
      defer { download.close() }
      response = try await client.perform(request, sink: download)
    } catch let failure as HTTPFailure {
      let reason =
        failure.kind == .timedOut
        ? "nothing received for \(Int(idleDeadline)) s, the idle deadline; GIT_RAG_IDLE_TIMEOUT raises it"
        : failure.reason
      throw ModelDownloadError.unreachable(url: url.absoluteString, reason: reason)
    } catch let failure as WriteFailure {
      throw ModelDownloadError.unreachable(
        url: url.absoluteString, reason: "writing \(partial.path): \(failure.error.localizedDescription)")
    }
    var outcome = download.outcome
    outcome.status = response.status
    // The Hub puts the LFS digest on the redirect to its CDN.
    for headers in response.redirects + [response.headers] {
      if let digest = digest(in: headers) { outcome.advertisedDigest = digest }
    }
    return outcome
  }

  private static func digest(in headers: HTTPHeaders) -> String? {
    for field in ["X-Linked-Etag", "ETag"] {
      guard var value = headers[field] else { continue }
      value = value.replacingOccurrences(of: "W/", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
      if value.count == 64, value.allSatisfy(\.isHexDigit) { return value.lowercased() }
    }
    return nil
  }

  func begin(status: Int, headers: HTTPHeaders) throws -> Bool {
    let length = headers["Content-Length"].flatMap { Int64($0) }
    do {
      switch status {
      case 206:
        if let range = headers["Content-Range"], let total = range.split(separator: "/").last.flatMap({ Int64($0) }) {
          outcome.totalLength = total
        } else if let length {
          outcome.totalLength = offset + length
        }
        let handle = try FileHandle(forWritingTo: partial)
        try handle.seek(toOffset: UInt64(offset))
        try handle.truncate(atOffset: UInt64(offset))
        self.handle = handle
      case 200:
        // The server ignored the Range: start the file over.
        outcome.totalLength = length
        _ = FileManager.default.createFile(atPath: partial.path, contents: nil)
        handle = try FileHandle(forWritingTo: partial)
        try handle?.truncate(atOffset: 0)
      default:
        return false
      }
    } catch {
      throw WriteFailure(error: error)
    }
    return true
  }

  func write(_ bytes: UnsafeRawBufferPointer) throws {
    do { try handle?.write(contentsOf: Data(bytes)) } catch { throw WriteFailure(error: error) }
  }

  private func close() {
    try? handle?.close()
    handle = nil
  }
}

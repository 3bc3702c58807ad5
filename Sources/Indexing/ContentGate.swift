import Chunking
import Foundation
import Git
import GitRAGCore

/// A source whose content has been through the gate: every read is filtered and redacted.
protocol GatedSource: ContentSource {
  /// The file's text as the gate passed it, or why it is not indexed.
  func admit(_ file: SourceFile) throws -> Result<GatedText, SkipReason>
}

/// Thrown by `ContentGate.read` for a file the gate keeps out.
struct GateRefusal: Error, CustomStringConvertible {
  let path: String
  let reason: SkipReason
  var description: String { "\(path) is not indexed (\(reason))" }
}

/// The one place a sync reads file content. It wraps the raw snapshot; everything after it (the
/// chunker, the Python analysis and its facts cache, keyword index, embedding requests, payloads)
/// gets content only through `admit` or `read`, which apply `FileFilter.admit`: cheap path checks
/// first (a file skipped by name is never read), then binary/generated checks and secret
/// detection, with every secret value replaced by `«redacted:<rule>»`. There is no way from the
/// gate back to the raw bytes.
final class ContentGate: GatedSource {
  private let source: ContentSource
  let filter: FileFilter
  /// Rules allowed everywhere (`rag.allowSecretRules`); paths add their own (`rag-allow-secrets`).
  let allowance: SecretAllowance

  init(_ source: ContentSource, filter: FileFilter, allowance: SecretAllowance) {
    self.source = source
    self.filter = filter
    self.allowance = allowance
  }

  var revision: String? { source.revision }
  var identity: String { source.identity }
  var repositoryIdentity: RepositoryIdentity? { source.repositoryIdentity }
  func files() throws -> [SourceFile] { try source.files() }
  func changes(since base: String) throws -> [FileChange]? { try source.changes(since: base) }
  func size(of file: SourceFile) throws -> Int { try source.size(of: file) }
  func ragAttribute(_ path: String) -> RagAttribute { source.ragAttribute(path) }
  func secretAllowance(_ path: String) -> SecretAllowance { allowance.union(source.secretAllowance(path)) }

  func admit(_ file: SourceFile) throws -> Result<GatedText, SkipReason> {
    let size = file.kind == .submodule || file.kind == .symlink ? 0 : try source.size(of: file)
    return try filter.admit(
      path: file.path, kind: file.kind, size: size, attribute: source.ragAttribute(file.path),
      allowance: secretAllowance(file.path)
    ) { try source.read(file) }
  }

  /// The gated text as UTF-8; a file the gate keeps out throws `GateRefusal`.
  func read(_ file: SourceFile) throws -> Data {
    switch try admit(file) {
    case .success(let gated): Data(gated.text.utf8)
    case .failure(let reason): throw GateRefusal(path: file.path, reason: reason)
    }
  }

  /// The cheap checks alone (kind, name, attributes), for files whose content is not needed.
  func precheck(_ path: String, kind: FileKind) -> SkipReason? {
    filter.precheck(path: path, kind: kind, size: 0, attribute: source.ragAttribute(path), allowance: secretAllowance(path))
  }
}

extension ContentSource {
  /// Secret rules the path may ignore (the `rag-allow-secrets` attribute); none by default.
  public func secretAllowance(_ path: String) -> SecretAllowance { .none }
}

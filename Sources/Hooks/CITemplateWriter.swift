import Foundation
import GitRAGCore

/// What `writeCITemplate` wrote, and what the user still has to do.
public struct CITemplateWrite: Sendable, Hashable {
  /// The files written, template first.
  public var files: [URL]
  /// Lines to print: the secrets to set and, for GitLab, how to include the template.
  public var instructions: [String]
}

/// Writes the CI template for `provider` into the repository at `repositoryRoot`
/// (`git rag ci init github|gitlab`).
///
/// GitHub: `.github/workflows/git-rag.yml`. GitLab: `.gitlab/git-rag.gitlab-ci.yml`, plus a
/// `.gitlab-ci.yml` that includes it when there is none (an existing one is never edited; the
/// instructions say which `include:` line to add). An existing template is replaced only with `force`.
///
/// With `publishIndex`, the pipeline also publishes the index under `refs/rag` after its sync.
public func writeCITemplate(
  provider: String, store: String = "qdrant", repositoryRoot: URL, force: Bool, publishIndex: Bool = false
) throws -> CITemplateWrite {
  guard store == "qdrant" else { throw CITemplateError.unsupportedStore(store) }
  var (path, contents) = try CITemplates.template(for: provider)
  if publishIndex { contents = try CITemplates.publishingIndex(contents, provider: provider) }
  let target = repositoryRoot.appendingPathComponent(path)
  let fileManager = FileManager.default
  if fileManager.fileExists(atPath: target.path) && !force {
    if fileManager.contents(atPath: target.path) == Data(contents.utf8) {
      return CITemplateWrite(files: [], instructions: ["\(path) is already up to date."])
    }
    throw CITemplateError.exists(target.path)
  }
  var files = [target]
  var instructions: [String] = []
  do {
    try fileManager.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(contents.utf8).write(to: target, options: .atomic)
    if provider.lowercased() == "gitlab" {
      let main = repositoryRoot.appendingPathComponent(".gitlab-ci.yml")
      let include = "include:\n  - local: \(path)\n"
      if let existing = fileManager.contents(atPath: main.path) {
        if !String(decoding: existing, as: UTF8.self).contains(path) {
          instructions.append("Add to .gitlab-ci.yml: include: [{local: \(path)}]")
        }
      } else {
        try Data(include.utf8).write(to: main, options: .atomic)
        files.append(main)
      }
    }
    instructions += CITemplates.settingsToSet(provider: provider)
  } catch {
    throw CITemplateError.cannotWrite(target.path, error.localizedDescription)
  }
  if publishIndex { instructions.append(CITemplates.publishingInstructions(provider: provider)) }
  return CITemplateWrite(files: files, instructions: instructions)
}

/// Why a CI template could not be written.
public enum CITemplateError: UserFacingError, Equatable {
  case unknownProvider(String)
  case unsupportedStore(String)
  case exists(String)
  case cannotWrite(String, String)

  public var errorDescription: String? {
    switch self {
    case .unknownProvider(let name):
      "Unknown CI provider '\(name)'. Use one of: \(CITemplates.providers.joined(separator: ", "))."
    case .unsupportedStore(let store):
      "CI cannot keep a '\(store)' store: the runner's disk is gone after each run. Use --store qdrant."
    case .exists(let path):
      "\(path) already exists and differs from the template. Rerun with --force to replace it."
    case let .cannotWrite(path, reason):
      "Cannot write \(path) (\(reason)). Check the folder's permissions."
    }
  }

  public var exitCode: Int32 {
    switch self {
    case .unknownProvider, .unsupportedStore: 2
    case .exists, .cannotWrite: 1
    }
  }
}

import Foundation

/// A git object id: a SHA-1 as 40 lowercase hex digits.
public struct ObjectID: Hashable, Sendable, Codable, CustomStringConvertible {
  /// The 40 lowercase hex digits.
  public let hex: String

  /// An id from 40 hex digits (either case); nil for anything else.
  public init?(hex: String) {
    let utf8 = hex.utf8
    guard utf8.count == 40, utf8.allSatisfy({ $0.isHexDigit }) else { return nil }
    self.hex = hex.lowercased()
  }

  init(validatedHex: String) { hex = validatedHex }

  /// The first 12 hex digits, for messages.
  public var shortHex: String { String(hex.prefix(12)) }
  public var description: String { hex }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    guard let id = ObjectID(hex: text) else {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a 40-hex object id: \(text)")
    }
    self = id
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(hex)
  }
}

extension UInt8 {
  fileprivate var isHexDigit: Bool {
    (0x30...0x39).contains(self) || (0x61...0x66).contains(self) || (0x41...0x46).contains(self)
  }
}

/// The mode of a tree entry, as git records it.
public enum FileMode: Sendable, Hashable {
  /// 100644, a regular file.
  case blob
  /// 100755, an executable file.
  case executable
  /// 120000, a symbolic link (the blob holds the target path).
  case symlink
  /// 160000, a submodule commit.
  case gitlink
  /// 040000, a directory.
  case tree

  /// The octal mode git writes (`100644`, `120000`, ...).
  public var octal: String {
    switch self {
    case .blob: "100644"
    case .executable: "100755"
    case .symlink: "120000"
    case .gitlink: "160000"
    case .tree: "040000"
    }
  }

  /// True for regular files, executable or not.
  public var isRegularFile: Bool { self == .blob || self == .executable }
}

/// One non-directory entry of a commit's tree, with its repository-relative path.
public struct TreeEntry: Sendable, Hashable {
  /// Repository-relative, `/`-separated; invalid UTF-8 is replaced by U+FFFD.
  public let path: String
  public let mode: FileMode
  /// The blob id (or, for a gitlink, the submodule's commit id).
  public let id: ObjectID

  public init(path: String, mode: FileMode, id: ObjectID) {
    self.path = path
    self.mode = mode
    self.id = id
  }
}

/// What happened to a path between two trees.
public enum ChangeKind: String, Sendable {
  case added, modified, deleted, renamed, copied, typeChanged
}

/// One change between two trees. Added files have no old side, deleted files no new side.
public struct FileChange: Sendable, Hashable {
  public let kind: ChangeKind
  public let oldPath: String?
  public let newPath: String?
  public let oldID: ObjectID?
  public let newID: ObjectID?
  public let oldMode: FileMode?
  public let newMode: FileMode?
  /// Percent similarity (0–100) for renames and copies (100 for an unchanged blob); 0 otherwise.
  public let similarity: Int

  public init(
    kind: ChangeKind, oldPath: String?, newPath: String?, oldID: ObjectID?, newID: ObjectID?,
    oldMode: FileMode?, newMode: FileMode?, similarity: Int
  ) {
    self.kind = kind
    self.oldPath = oldPath
    self.newPath = newPath
    self.oldID = oldID
    self.newID = newID
    self.oldMode = oldMode
    self.newMode = newMode
    self.similarity = similarity
  }

  /// The path after the change, or the deleted path.
  public var path: String { newPath ?? oldPath ?? "" }
}

/// The state of a gitattribute for a path.
public enum AttributeValue: Sendable, Hashable {
  /// Not mentioned by any attributes file (or `!name`).
  case unspecified
  /// `name`
  case set
  /// `-name`
  case unset
  /// `name=value`
  case value(String)
}

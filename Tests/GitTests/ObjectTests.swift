import Foundation
import Git
import GitRAGTestSupport
import Testing

@Suite struct ObjectTests {
  static let samples: [Data] = [
    Data(),
    Data("hello\n".utf8),
    Data("no trailing newline".utf8),
    Data((0...255).map { UInt8($0) } + [0, 0, 0xFF, 0xFE]),
    Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }),
  ]

  @Test func blobIDsEqualGitHashObject() throws {
    let repo = try makeRepository()
    for data in Self.samples {
      #expect(GitBlob.id(of: data).hex == (try repo.hashObject(data)))
    }
    #expect(GitBlob.id(of: Data()).hex == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")
  }

  @Test func blobIDOfAFile() throws {
    let repo = try makeRepository()
    let file = try repo.write("bin.dat", data: Self.samples[3])
    #expect(try GitBlob.id(ofFileAt: file).hex == (try repo.git("hash-object", "bin.dat")))
  }

  @Test func readsBlobsAndSizes() throws {
    let repo = try makeRepository()
    try repo.write("empty", data: Data())
    try repo.write("binary.bin", data: Self.samples[3])
    try repo.write("big.bin", data: Self.samples[4])
    try repo.git("add", "-A")
    try repo.commit(message: "blobs")
    try repo.git("gc", "-q")  // read from a pack as well as loose objects
    try repo.commit(["loose.txt": "loose\n"], message: "loose")
    let opened = try open(repo)
    for (path, data) in [
      ("empty", Samples.empty), ("binary.bin", Self.samples[3]), ("big.bin", Self.samples[4]),
      ("loose.txt", Data("loose\n".utf8)),
    ] {
      let id = try oid(try repo.git("rev-parse", "HEAD:\(path)"))
      #expect(try opened.blob(id) == data)
      #expect(try opened.blobSize(id) == data.count)
    }
  }

  @Test func commitExistsOnlyForCommits() throws {
    let repo = try makeRepository()
    let head = try repo.commit(["a.txt": "a\n"])
    let opened = try open(repo)
    #expect(opened.commitExists(try oid(head)))
    #expect(!opened.commitExists(try oid(String(repeating: "12", count: 20))))
    #expect(!opened.commitExists(try oid(try repo.git("rev-parse", "HEAD:a.txt"))))
    #expect(!opened.commitExists(try oid(try repo.git("rev-parse", "HEAD^{tree}"))))

    let missing = try oid(String(repeating: "34", count: 20))
    let error = #expect(throws: GitError.self) { try opened.blob(missing) }
    #expect(error?.kind == .objectNotFound(missing.hex))
    #expect(error?.isNotFound == true)
    // A commit id is not a blob.
    #expect(throws: GitError.self) { try opened.blobSize(try oid(head)) }
  }

  @Test func corruptLooseObjectIsATypedError() throws {
    let repo = try makeRepository()
    try repo.commit(["victim.txt": "this blob will be damaged\n"])
    let hex = try repo.git("rev-parse", "HEAD:victim.txt")
    let object = repo.url.appendingPathComponent(".git/objects/\(hex.prefix(2))/\(hex.dropFirst(2))")
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: object.path)
    try Data("this is not zlib data at all".utf8).write(to: object)

    let opened = try open(repo)
    let id = try oid(hex)
    let error = #expect(throws: GitError.self) { try opened.blob(id) }
    #expect(error?.kind == .corruptObject(hex))
    #expect(error?.errorDescription?.contains(hex) == true)
    #expect(throws: GitError.self) { try opened.blobSize(id) }
    #expect(!opened.commitExists(id))

    // A damaged commit object fails the same way when walking its tree.
    let commitHex = repo.head
    let commitFile = repo.url.appendingPathComponent(".git/objects/\(commitHex.prefix(2))/\(commitHex.dropFirst(2))")
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: commitFile.path)
    try Data([0x78, 0x9C, 0xFF, 0x00, 0x13]).write(to: commitFile)
    let walkError = #expect(throws: GitError.self) { try open(repo).treeEntries(commit: try oid(commitHex)) }
    #expect(walkError?.kind == .corruptObject(commitHex))
  }

  @Test func objectIDParsingAndCoding() throws {
    #expect(ObjectID(hex: "ABCDEF0123456789abcdef0123456789ABCDEF01")?.hex == "abcdef0123456789abcdef0123456789abcdef01")
    #expect(ObjectID(hex: "abc") == nil)
    #expect(ObjectID(hex: String(repeating: "g", count: 40)) == nil)
    let id = try oid(String(repeating: "a1", count: 20))
    let json = try JSONEncoder().encode([id])
    #expect(String(decoding: json, as: UTF8.self) == "[\"\(id.hex)\"]")
    #expect(try JSONDecoder().decode([ObjectID].self, from: json) == [id])
    #expect(throws: DecodingError.self) { try JSONDecoder().decode([ObjectID].self, from: Data("[\"xyz\"]".utf8)) }
    #expect(id.description == id.hex)
  }
}

enum Samples {
  static let empty = Data()
}

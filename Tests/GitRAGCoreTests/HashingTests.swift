import Foundation
import GitRAGCore
import Testing

@Suite struct HashingTests {
  @Test func sha256KnownVectors() {
    #expect(SHA256Digest.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256Digest.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    let long = String(repeating: "a", count: 1_000)
    #expect(SHA256Digest.hex(long) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
  }

  @Test func uuidV5MatchesRFCExample() {
    // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org")
    let dns = UUID(uuidString: "6ba7b810-9dad-11d1-80b4-00c04fd430c8")!
    #expect(UUIDv5.make(namespace: dns, name: "python.org").uuidString.lowercased() == "886313e1-3b8a-5372-9b90-0c9aee199e5d")
  }

  @Test func pointIDsAreDeterministicAndDistinct() {
    let a = PointID.make(filePath: "a.py", fileHash: "abc", chunkIndex: 0)
    #expect(a == PointID.make(filePath: "a.py", fileHash: "abc", chunkIndex: 0))
    #expect(a != PointID.make(filePath: "a.py", fileHash: "abc", chunkIndex: 1))
    #expect(a != PointID.make(filePath: "b.py", fileHash: "abc", chunkIndex: 0))
  }
}

@Suite struct CodeTokenizerTests {
  @Test func identifiersAreKeptWholeAndSplit() {
    let terms = CodeTokenizer.terms("parseHTTPResponse(max_retries) os.path.join")
    #expect(terms.contains("parsehttpresponse"))
    #expect(terms.contains("parse"))
    #expect(terms.contains("http"))
    #expect(terms.contains("response"))
    #expect(terms.contains("max_retries"))
    #expect(terms.contains("retries"))
    #expect(terms.contains("join"))
  }

  @Test func stopWordsDropOnlyWhenAsked() {
    #expect(CodeTokenizer.terms("the request is sent", dropStopWords: true) == ["request", "sent"])
    #expect(CodeTokenizer.terms("the request").contains("the"))
  }
}

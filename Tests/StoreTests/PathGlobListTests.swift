import Store
import Testing

@Test func aListOfGlobsIncludesAnyAndExcludesEveryNegatedOne() {
  let paths = ["src/app.py", "src/net/client.py", "src/net/test_client.py", "tests/test_app.py", "docs/net.md"]
  func selected(_ globs: [String]) -> [String] {
    guard let pattern = PathGlob.list(globs) else { return paths }
    let glob = PathGlob(pattern)
    return paths.filter(glob.matches)
  }
  #expect(selected([]) == paths)
  #expect(PathGlob.list(["", "!"]) == nil)
  #expect(selected(["src/**"]) == ["src/app.py", "src/net/client.py", "src/net/test_client.py"])
  #expect(selected(["src/**", "docs"]) == ["src/app.py", "src/net/client.py", "src/net/test_client.py", "docs/net.md"])
  #expect(selected(["src/**/*.py", "!**/test_*"]) == ["src/app.py", "src/net/client.py"])
  // Only exclusions: everything else.
  #expect(selected(["!tests", "!docs/**"]) == ["src/app.py", "src/net/client.py", "src/net/test_client.py"])
  #expect(selected(["!src/net"]) == ["src/app.py", "tests/test_app.py", "docs/net.md"])
  // `[!…]` inside a glob is still a negated set, not an exclusion.
  #expect(selected(["src/[!a]*"]) == ["src/net/client.py", "src/net/test_client.py"])
}

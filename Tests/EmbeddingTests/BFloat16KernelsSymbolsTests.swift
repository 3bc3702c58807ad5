#if arch(x86_64)
  import Foundation
  import GitRAGTestSupport
  import Testing

  /// BFloat16Kernels is compiled for AVX-512. A function it defines under a name that other modules
  /// define too (a standard library specialisation, a value-witness helper such as
  /// `__swift_memcpy32_8`) is merged by the linker into one copy for the whole binary, which may
  /// be this module's: AVX-512 code reached from baseline code, a crash on an older CPU. Every
  /// function it exports must therefore carry its own module's prefix.
  @Suite struct BFloat16KernelsSymbolsTests {
    @Test func exportsOnlyItsOwnFunctions() throws {
      // The test bundle sits in the build folder it was built into, beside the module's objects.
      let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("BFloat16Kernels.build")
      // One object per source file the build lists (older objects of removed files may linger).
      let sources = try String(contentsOf: folder.appendingPathComponent("sources"), encoding: .utf8)
      let objects = sources.split(separator: "\n").map { URL(fileURLWithPath: String($0)).lastPathComponent + ".o" }
      try #require(!objects.isEmpty, "no sources listed in \(folder.path)")
      var foreign: [String] = []
      for object in objects {
        let listing = try runProcess("nm", ["--defined-only", "--extern-only", folder.appendingPathComponent(object).path]).stdout
        for line in listing.split(separator: "\n") {
          let fields = line.split(separator: " ")
          guard fields.count == 3, ["T", "W", "i"].contains(fields[1]) else { continue }
          if !fields[2].hasPrefix("$s15BFloat16Kernels") { foreign.append("\(object): \(fields[2])") }
        }
      }
      #expect(foreign.isEmpty, "functions the linker could share with other modules: \(foreign)")
    }
  }
#endif

import Foundation
import Testing

@testable import Chunking

@Suite struct LanguageRegistryTests {
  @Test func everyNameExtensionFileNameAndInterpreterBelongsToOneLanguage() {
    for keys in [\Language.extensions, \Language.fileNames, \Language.interpreters] {
      var owner: [String: String] = [:]
      for language in LanguageRegistry.all {
        for key in language[keyPath: keys] {
          #expect(owner[key] == nil, "\(key) is claimed by \(owner[key] ?? "") and \(language.name)")
          owner[key] = language.name
        }
      }
    }
    let names = LanguageRegistry.all.map(\.name)
    #expect(Set(names).count == names.count)
  }

  @Test func theDetectorNamesWhatTheRegistryLists() {
    for language in LanguageRegistry.all {
      for ext in language.extensions {
        #expect(LanguageDetector.language(path: "src/file.\(ext)", firstLine: nil) == language.name, "*.\(ext)")
        #expect(LanguageDetector.language(path: "src/FILE.\(ext.uppercased())", firstLine: nil) == language.name, "*.\(ext.uppercased())")
      }
      for name in language.fileNames { #expect(LanguageDetector.language(path: "a/\(name)", firstLine: nil) == language.name, "\(name)") }
      for interpreter in language.interpreters {
        #expect(LanguageDetector.language(path: "bin/tool", firstLine: "#!/usr/bin/env \(interpreter)3") == language.name, "\(interpreter)")
      }
    }
  }

  @Test func structuredLanguagesGetTheirStructure() {
    #expect(LanguageRegistry.structure(for: "python") is PythonStructure)
    #expect(LanguageRegistry.structure(for: "markdown") is MarkdownStructure)
    #expect(LanguageRegistry.structure(for: "toml") is TableStructure)
    #expect((LanguageRegistry.structure(for: "go") as? BlockStructure)?.syntax.language == "go")
    #expect(LanguageRegistry.structure(for: "lua") is LineStructure)
    #expect(LanguageRegistry.structure(for: "no-such-language") is LineStructure)
  }
}

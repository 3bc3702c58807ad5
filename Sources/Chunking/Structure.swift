import Foundation

/// Text without known structure: one section, cut by lines with overlap.
struct LineStructure: Structure {
  func sections(_ document: SourceDocument) -> [Section] {
    [Section(lines: 0..<document.lineCount, symbol: nil)]
  }
}

extension ArraySlice<UInt8> {
  /// Without leading and trailing spaces, tabs and carriage returns.
  var trimmingBlanks: ArraySlice<UInt8> {
    let isBlank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else { return [] }
    return self[first...last]
  }
}

extension Substring {
  var trimmingTrailingSpaces: Substring {
    var end = endIndex
    while end > startIndex, let previous = self[..<end].last, previous == " " || previous == "\t" { end = index(before: end) }
    return self[startIndex..<end]
  }
}

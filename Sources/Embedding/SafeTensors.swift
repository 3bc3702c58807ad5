import Foundation
import GitRAGCore

#if canImport(Glibc)
  import Glibc
#endif

/// What went wrong reading a model folder or its `.safetensors` weights.
public enum ModelFileError: UserFacingError, Equatable {
  case missingFile(path: String, hint: String)
  case unreadable(path: String, reason: String)
  case malformed(path: String, reason: String)
  case missingTensor(path: String, name: String)
  case wrongShape(path: String, name: String, expected: [Int], found: [Int])
  case wrongType(path: String, name: String, expected: String, found: String)
  case missingLibrary(name: String, reason: String, hint: String)
  case unsupportedPrecision(requested: String, reason: String)

  public var errorDescription: String? {
    switch self {
    case let .missingFile(path, hint):
      "Model file \(path) does not exist. \(hint)"
    case let .unreadable(path, reason):
      "Cannot read model file \(path) (\(reason)). Check its permissions or download the model again."
    case let .malformed(path, reason):
      "Model file \(path) is damaged: \(reason). Download the model again (git rag model pull)."
    case let .missingTensor(path, name):
      "Model file \(path) has no tensor \(name); it does not match config.json. Download the model again."
    case let .wrongShape(path, name, expected, found):
      "Tensor \(name) in \(path) has shape \(found), config.json says \(expected). Download the model again."
    case let .wrongType(path, name, expected, found):
      "Tensor \(name) in \(path) is \(found), expected \(expected). Use a float32 export of the model."
    case let .missingLibrary(name, reason, hint):
      "The local model needs \(name), which could not be loaded (\(reason)). \(hint)"
    case let .unsupportedPrecision(requested, reason):
      "GIT_RAG_MODEL_PRECISION=\(requested) cannot be used: \(reason). Set it to auto or float32, or unset it."
    }
  }
}

/// A `.safetensors` file, memory-mapped: an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range, then the raw little-endian data.
public struct SafeTensorsFile: Sendable {
  /// One tensor's description from the header.
  public struct TensorInfo: Sendable, Equatable {
    public let dtype: String
    public let shape: [Int]
    /// Byte range inside the data section (after the header).
    public let range: Range<Int>
  }

  public let path: String
  /// Tensors by name (`__metadata__` excluded).
  public let tensors: [String: TensorInfo]
  private let file: MappedFile
  private let dataStart: Int

  /// Maps `url` and parses its header; every byte range is checked against the file size.
  public init(url: URL) throws(ModelFileError) {
    path = url.path
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw .missingFile(path: url.path, hint: "Download the model again (git rag model pull).")
    }
    let file = try MappedFile(path: url.path)
    let data = file.bytes
    guard data.count >= 8 else {
      throw .malformed(path: path, reason: "file is \(data.count) bytes, shorter than the 8-byte header length")
    }
    var headerLength: UInt64 = 0
    for index in 0..<8 { headerLength |= UInt64(data[index]) << (8 * UInt64(index)) }
    guard headerLength <= UInt64(data.count - 8) else {
      throw .malformed(
        path: path, reason: "header claims \(headerLength) bytes but the file has \(data.count - 8) after the length (truncated?)")
    }
    let start = 8 + Int(headerLength)
    let object: Any
    do { object = try JSONSerialization.jsonObject(with: Data(UnsafeRawBufferPointer(rebasing: data[8..<start]))) } catch {
      throw .malformed(path: path, reason: "header is not valid JSON")
    }
    guard let header = object as? [String: Any] else { throw .malformed(path: path, reason: "header is not a JSON object") }
    let available = data.count - start
    var tensors: [String: TensorInfo] = [:]
    for (name, value) in header where name != "__metadata__" {
      guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
        let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
      else { throw .malformed(path: path, reason: "tensor \(name) has no dtype, shape or data_offsets") }
      let (begin, end) = (offsets[0], offsets[1])
      guard begin >= 0, begin <= end, end <= available else {
        throw .malformed(
          path: path, reason: "tensor \(name) lies at bytes \(begin)..<\(end) but the data section has \(available) bytes (truncated?)")
      }
      guard shape.allSatisfy({ $0 >= 0 }) else { throw .malformed(path: path, reason: "tensor \(name) has a negative dimension") }
      let elementSize = Self.elementSize(dtype)
      if let elementSize, shape.reduce(1, *) * elementSize != end - begin {
        throw .malformed(path: path, reason: "tensor \(name) has shape \(shape) but \(end - begin) bytes")
      }
      tensors[name] = TensorInfo(dtype: dtype, shape: shape, range: begin..<end)
    }
    self.tensors = tensors
    self.file = file
    self.dataStart = start
  }

  private static func elementSize(_ dtype: String) -> Int? {
    switch dtype {
    case "F64", "I64", "U64": 8
    case "F32", "I32", "U32": 4
    case "F16", "BF16", "I16", "U16": 2
    case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2": 1
    default: nil
    }
  }

  /// The float32 tensor `name`, checked to have exactly `shape`, copied out of the mapping.
  public func floats(_ name: String, shape: [Int]) throws(ModelFileError) -> [Float] {
    let source = try bytes(name, shape: shape)
    return [Float](unsafeUninitializedCapacity: source.count / 4) { buffer, initialized in
      // Unaligned-safe copy; safetensors data is little-endian like every platform we build for.
      UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
      initialized = source.count / 4
    }
  }

  /// The float32 tensor `name`, checked like `floats`, read in place from the mapping: no copy,
  /// and only the pages a forward pass touches are read (most rows of a word-embedding table
  /// never are). Nil when the tensor is not 4-byte aligned in the file. Valid while this file
  /// value, or a copy of it, lives.
  public func mappedFloats(_ name: String, shape: [Int]) throws(ModelFileError) -> UnsafePointer<Float>? {
    let source = try bytes(name, shape: shape)
    guard let base = source.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 else { return nil }
    return base.assumingMemoryBound(to: Float.self)
  }

  /// Gives back the memory of the whole pages inside tensor `name` that reading it brought in: the
  /// next read (if any) maps them from the page cache again. For tensors copied elsewhere, such as
  /// weights packed to bfloat16.
  public func dropPages(of name: String) {
    guard let info = tensors[name], let base = file.bytes.baseAddress else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = Int(bitPattern: base) + dataStart + info.range.lowerBound
    let end = Int(bitPattern: base) + dataStart + info.range.upperBound
    let first = (start + page - 1) / page * page, last = end / page * page
    guard last > first, let pointer = UnsafeMutableRawPointer(bitPattern: first) else { return }
    madvise(pointer, last - first, MADV_DONTNEED)
  }

  private func bytes(_ name: String, shape: [Int]) throws(ModelFileError) -> UnsafeRawBufferPointer {
    guard let info = tensors[name] else { throw .missingTensor(path: path, name: name) }
    guard info.dtype == "F32" else { throw .wrongType(path: path, name: name, expected: "F32", found: info.dtype) }
    guard info.shape == shape else { throw .wrongShape(path: path, name: name, expected: shape, found: info.shape) }
    return UnsafeRawBufferPointer(rebasing: file.bytes[(dataStart + info.range.lowerBound)..<(dataStart + info.range.upperBound)])
  }
}

/// A whole file mapped read-only, unmapped when the last reference goes.
final class MappedFile: @unchecked Sendable {
  // @unchecked: the mapping is read-only and lives as long as this object.
  let bytes: UnsafeRawBufferPointer

  init(path: String) throws(ModelFileError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    let length = Int(info.st_size)
    guard length > 0 else {
      bytes = UnsafeRawBufferPointer(start: nil, count: 0)
      return
    }
    guard let base = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
      throw .unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    bytes = UnsafeRawBufferPointer(start: base, count: length)
  }

  deinit {
    if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
  }
}

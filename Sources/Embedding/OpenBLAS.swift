internal import CBLAS
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// OpenBLAS, loaded when the first model is.
///
/// git-rag does not link a BLAS: OpenBLAS starts its thread pool from its library constructor,
/// and those threads spin for about a tenth of a second in every process that loads it, which
/// cost every `git rag` command (a hook's sync, a status) 40–50 ms of CPU it never used. Loaded
/// here, after `main` set `OPENBLAS_NUM_THREADS=1` (`preferOneThread()`), it starts no pool; we
/// parallelise above BLAS, if at all.
enum OpenBLAS {
  typealias SGEMM =
    @convention(c) (
      CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32
    ) -> Void
  private typealias SetThreads = @convention(c) (Int32) -> Void

  /// Asks OpenBLAS for one thread when it loads. Call before any thread starts (it sets an
  /// environment variable); a value the user set wins.
  static func preferOneThread() {
    setenv("OPENBLAS_NUM_THREADS", "1", 0)
  }

  private static let library: Result<SGEMM, ModelFileError> = {
    let names = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"]
    guard let handle = names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else {
      let reason = dlerror().map { String(cString: $0) } ?? "not found"
      return .failure(
        .missingLibrary(
          name: "OpenBLAS (libopenblas.so.0)", reason: reason,
          hint: "Install it with `apt-get install libopenblas0` (scripts/bootstrap does)."))
    }
    guard let sgemm = dlsym(handle, "cblas_sgemm") else {
      return .failure(
        .missingLibrary(
          name: "OpenBLAS (libopenblas.so.0)", reason: "it has no cblas_sgemm",
          hint: "Install OpenBLAS's CBLAS build with `apt-get install libopenblas0`."))
    }
    // One thread even if the environment asked for more: batches are split above BLAS.
    if let setThreads = dlsym(handle, "openblas_set_num_threads") {
      unsafeBitCast(setThreads, to: SetThreads.self)(1)
    }
    return .success(unsafeBitCast(sgemm, to: SGEMM.self))
  }()

  /// Loads the library (once); throws a clear error when it is missing.
  static func load() throws(ModelFileError) {
    _ = try library.get()
  }

  /// `cblas_sgemm`. Only reached from a model, whose init called `load()`.
  static var sgemm: SGEMM {
    switch library {
    case .success(let function): function
    case .failure(let error): preconditionFailure("OpenBLAS used before it loaded: \(error)")
    }
  }
}

extension LocalEmbedder {
  /// Call first thing in `main`, before any thread starts: OpenBLAS, loaded with the first model,
  /// then starts no thread pool of its own.
  public static func prepareProcess() { OpenBLAS.preferOneThread() }
}

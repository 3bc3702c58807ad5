internal import CCurl
import Foundation

/// libcurl's process-wide set-up, done once before the first handle.
private let curlInitialised: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

/// Easy handles kept between exchanges: each holds its open connections for reuse.
final class CurlHandlePool: @unchecked Sendable {
  // @unchecked: `idle` is only touched under `lock`; a handle taken out belongs to one thread.
  private let lock = NSLock()
  private var idle: [UnsafeMutableRawPointer] = []
  private let capacity: Int

  init(capacity: Int) { self.capacity = capacity }

  deinit { for handle in idle { curl_easy_cleanup(handle) } }

  func take() -> UnsafeMutableRawPointer? {
    lock.lock()
    let handle = idle.popLast()
    lock.unlock()
    guard curlInitialised else { return nil }
    return handle ?? curl_easy_init()
  }

  func give(_ handle: UnsafeMutableRawPointer?) {
    guard let handle else { return }
    lock.lock()
    let keep = idle.count < capacity
    if keep { idle.append(handle) }
    lock.unlock()
    if !keep { curl_easy_cleanup(handle) }
  }
}

/// One exchange on one easy handle, and the state libcurl's callbacks fill in.
final class CurlTransfer: @unchecked Sendable {
  // @unchecked: `run` and the callbacks it drives execute on one thread; `cancel` touches only
  // `cancelled`, under `lock`.
  private let request: HTTPRequest
  private let caFile: String?
  private let sink: HTTPBodySink?
  private let lock = NSLock()
  private var cancelled = false

  private var heads: [(status: Int, headers: HTTPHeaders)] = []
  private var currentHead: HTTPHeaders?
  private var currentStatus = 0
  private var body = Data()
  private var sinkBegun = false
  private var sinkTakesBody = true
  private var sinkError: Error?

  init(request: HTTPRequest, caFile: String?, sink: HTTPBodySink?) {
    self.request = request
    self.caFile = caFile
    self.sink = sink
  }

  func cancel() {
    lock.lock()
    cancelled = true
    lock.unlock()
  }

  var isCancelled: Bool {
    lock.lock()
    defer { lock.unlock() }
    return cancelled
  }

  func run(on handle: UnsafeMutableRawPointer?) -> Result<HTTPResponse, Error> {
    guard let handle else {
      return .failure(HTTPFailure(kind: .other, detail: "libcurl could not be initialised"))
    }
    if isCancelled { return .failure(CancellationError()) }
    curl_easy_reset(handle)
    var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    var fields: UnsafeMutablePointer<curl_slist>?
    defer { curl_slist_free_all(fields) }
    for field in request.headers { fields = curl_slist_append(fields, "\(field.name): \(field.value)") }
    // No `Expect: 100-continue` round trip before larger bodies.
    fields = curl_slist_append(fields, "Expect:")

    let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { buffer in
      let context = Unmanaged.passUnretained(self).toOpaque()
      ccurl_setopt_string(handle, CURLOPT_URL, request.url.absoluteString)
      ccurl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
      ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
      ccurl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
      ccurl_setopt_ptr(handle, CURLOPT_HTTPHEADER, fields)
      if let timeout = request.timeout, timeout.isFinite {
        ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, Int(timeout * 1000)))
      }
      if let idle = request.idleTimeout, idle.isFinite {
        ccurl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
        ccurl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, max(1, Int(idle.rounded(.up))))
      }
      if request.followRedirects {
        ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1)
        ccurl_setopt_long(handle, CURLOPT_MAXREDIRS, 10)
      }
      if let caFile { ccurl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
      ccurl_setopt_write(handle, CURLOPT_WRITEFUNCTION, curlWrite)
      ccurl_setopt_ptr(handle, CURLOPT_WRITEDATA, context)
      ccurl_setopt_write(handle, CURLOPT_HEADERFUNCTION, curlHeader)
      ccurl_setopt_ptr(handle, CURLOPT_HEADERDATA, context)
      // Called about once a second while waiting (and on every transfer step): the only cost of
      // an outstanding request, and how a cancelled task stops it.
      ccurl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
      ccurl_setopt_progress(handle, curlProgress)
      ccurl_setopt_ptr(handle, CURLOPT_XFERINFODATA, context)

      let method = request.method.uppercased()
      switch method {
      case "GET" where request.body == nil: ccurl_setopt_long(handle, CURLOPT_HTTPGET, 1)
      case "HEAD": ccurl_setopt_long(handle, CURLOPT_NOBODY, 1)
      default: if method != "POST" { ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method) }
      }
      if let body = request.body {
        body.withUnsafeBytes { bytes in
          ccurl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
          ccurl_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, bytes.baseAddress ?? UnsafeRawPointer(emptyBody.utf8Start))
        }
      } else if method == "POST" {
        ccurl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, 0)
        ccurl_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, UnsafeRawPointer(emptyBody.utf8Start))
      }
      return curl_easy_perform(handle)
    }

    if code == CURLE_OK {
      var status = 0
      ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
      if let sinkError { return .failure(sinkError) }
      if sink != nil && !sinkBegun {
        do { _ = try beginSink(status: status) } catch { return .failure(error) }
      }
      let final = heads.last { $0.status == status }?.headers ?? HTTPHeaders()
      let redirects = heads.filter { (300..<400).contains($0.status) && $0.status != 304 }.map(\.headers)
      return .success(HTTPResponse(status: status, headers: final, body: body, redirects: request.followRedirects ? redirects : []))
    }
    if let sinkError { return .failure(sinkError) }
    if code == CURLE_ABORTED_BY_CALLBACK, isCancelled { return .failure(CancellationError()) }
    let message = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let text = message.isEmpty ? String(cString: curl_easy_strerror(code)) : message
    let detail = Redaction.redact(text.trimmingCharacters(in: .whitespacesAndNewlines), secrets: request.secrets)
    return .failure(HTTPFailure(kind: Self.kind(ofCurlCode: code.rawValue), detail: detail))
  }

  /// The failure class of a libcurl result code (`CURLcode`'s raw value).
  static func kind(ofCurlCode raw: UInt32) -> HTTPFailure.Kind {
    func any(_ codes: CURLcode...) -> Bool { codes.contains { $0.rawValue == raw } }
    if any(CURLE_COULDNT_CONNECT) { return .connectionRefused }
    if any(CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY) { return .hostNotFound }
    if any(CURLE_OPERATION_TIMEDOUT) { return .timedOut }
    if any(
      CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
      CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS,
      CURLE_SSL_CRL_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_USE_SSL_FAILED)
    {
      return .tls
    }
    if any(
      CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM,
      CURLE_WEIRD_SERVER_REPLY)
    {
      return .connectionLost
    }
    if any(CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_TOO_MANY_REDIRECTS) { return .invalidRequest }
    return .other
  }

  // MARK: - Callbacks (on the transfer's thread)

  fileprivate func received(header line: String) {
    let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.hasPrefix("HTTP/") {
      let parts = trimmed.split(separator: " ", maxSplits: 2)
      currentStatus = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
      currentHead = HTTPHeaders()
    } else if trimmed.isEmpty {
      if let head = currentHead, currentStatus >= 200 { heads.append((currentStatus, head)) }
      currentHead = nil
    } else if let colon = trimmed.firstIndex(of: ":") {
      let name = String(trimmed[..<colon]).trimmingCharacters(in: .whitespaces)
      currentHead?[name] = String(trimmed[trimmed.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
    }
  }

  fileprivate func received(body bytes: UnsafeRawBufferPointer) -> Bool {
    guard let sink else {
      body.append(contentsOf: bytes)
      return true
    }
    do {
      if !sinkBegun { sinkTakesBody = try beginSink(status: heads.last?.status ?? currentStatus) }
      if sinkTakesBody { try sink.write(bytes) }
      return true
    } catch {
      sinkError = error
      return false
    }
  }

  private func beginSink(status: Int) throws -> Bool {
    sinkBegun = true
    return try sink?.begin(status: status, headers: heads.last?.headers ?? HTTPHeaders()) ?? false
  }
}

private let emptyBody: StaticString = ""

private func curlWrite(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
  guard let context else { return 0 }
  let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
  let length = size * count
  return transfer.received(body: UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private func curlHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
  guard let context, let data else { return 0 }
  let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
  let length = size * count
  transfer.received(header: String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self))
  return length
}

private func curlProgress(_ context: UnsafeMutableRawPointer?, _: curl_off_t, _: curl_off_t, _: curl_off_t, _: curl_off_t) -> Int32 {
  guard let context else { return 0 }
  return Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue().isCancelled ? 1 : 0
}

import Foundation
import GitRAGCore

/// AWS credentials: an access key pair and, for temporary credentials, a session token.
public struct AWSCredentials: Sendable, Hashable {
  public var accessKeyId: String
  public var secretAccessKey: String
  public var sessionToken: String?

  public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
    self.accessKeyId = accessKeyId
    self.secretAccessKey = secretAccessKey
    self.sessionToken = sessionToken
  }

  /// Credentials the way AWS tools find them: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`
  /// (+ `AWS_SESSION_TOKEN`), else the profile `AWS_PROFILE` (default `default`) of the shared
  /// credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`).
  public static func resolve(environment: [String: String]) throws(JobError) -> AWSCredentials {
    func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
    if let id = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") {
      return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"))
    }
    let profile = value("AWS_PROFILE") ?? "default"
    let file = value("AWS_SHARED_CREDENTIALS_FILE") ?? ((value("HOME") ?? NSHomeDirectory()) + "/.aws/credentials")
    if let section = AWSConfigFile.section(profile, in: file),
      let id = section["aws_access_key_id"], let secret = section["aws_secret_access_key"]
    {
      return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: section["aws_session_token"])
    }
    throw JobError.missingConfiguration(
      "No AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add a [\(profile)] profile to \(file) (aws configure).")
  }

  /// The region from `AWS_REGION`, `AWS_DEFAULT_REGION`, or the profile in `~/.aws/config`.
  public static func region(environment: [String: String]) -> String? {
    for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
      if let region = environment[name], !region.isEmpty { return region }
    }
    let profile = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
    let file = environment["AWS_CONFIG_FILE"] ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.aws/config")
    let section =
      AWSConfigFile.section(profile == "default" ? "default" : "profile \(profile)", in: file)
      ?? AWSConfigFile.section(profile, in: file)
    return section?["region"]
  }
}

/// The INI format of `~/.aws/credentials` and `~/.aws/config`.
enum AWSConfigFile {
  static func section(_ name: String, in path: String) -> [String: String]? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    var current: String?
    var found: [String: String]?
    for rawLine in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
      let line = rawLine.trimmingCharacters(in: .whitespaces)
      if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
      if line.hasPrefix("[") && line.hasSuffix("]") {
        current = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
        if current == name && found == nil { found = [:] }
        continue
      }
      guard current == name, let equals = line.firstIndex(of: "=") else { continue }
      let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
      found?[key] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
    }
    return found
  }
}

/// AWS Signature Version 4 for request headers (HMAC-SHA256 and SHA-256 from OpenSSL libcrypto).
public struct AWSSignatureV4: Sendable {
  public var credentials: AWSCredentials
  public var region: String
  public var service: String

  public init(credentials: AWSCredentials, region: String, service: String) {
    self.credentials = credentials
    self.region = region
    self.service = service
  }

  /// An HTTP request to sign: `headers` are the ones sent besides `host`, which comes from `url`.
  public struct Request: Sendable {
    public var method: String
    public var url: URL
    public var headers: [String: String]
    public var body: Data

    public init(method: String, url: URL, headers: [String: String] = [:], body: Data = Data()) {
      self.method = method
      self.url = url
      self.headers = headers
      self.body = body
    }
  }

  /// The intermediate texts of one signature, as AWS's test suite publishes them.
  public struct Signature: Sendable, Hashable {
    public var canonicalRequest: String
    public var stringToSign: String
    public var signature: String
    public var authorization: String
    /// Every header to send (besides `host`): the request's plus `x-amz-date`, the session token and `authorization`.
    public var headers: [String: String]
  }

  /// Signs `request` at `date`; `x-amz-date` (and `x-amz-security-token`) are added unless present.
  public func sign(_ request: Request, date: Date = Date()) -> Signature {
    var headers = request.headers
    let amzDate = headers.first { $0.key.lowercased() == "x-amz-date" }?.value ?? Self.amzDate(date)
    if !headers.keys.contains(where: { $0.lowercased() == "x-amz-date" }) { headers["X-Amz-Date"] = amzDate }
    if let token = credentials.sessionToken { headers["X-Amz-Security-Token"] = token }

    var canonicalHeaders: [String: String] = ["host": Self.hostHeader(request.url)]
    for (name, value) in headers {
      canonicalHeaders[name.lowercased()] = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
    let names = canonicalHeaders.keys.sorted()
    let signedHeaders = names.joined(separator: ";")
    let canonicalRequest = [
      request.method.uppercased(),
      Self.canonicalPath(request.url),
      Self.canonicalQuery(request.url),
      names.map { "\($0):\(canonicalHeaders[$0]!)\n" }.joined(),
      signedHeaders,
      Crypto.hex(Crypto.sha256(request.body)),
    ].joined(separator: "\n")

    let day = String(amzDate.prefix(8))
    let scope = "\(day)/\(region)/\(service)/aws4_request"
    let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Crypto.hex(Crypto.sha256(Data(canonicalRequest.utf8)))]
      .joined(separator: "\n")
    var key = Crypto.hmac(key: Data("AWS4\(credentials.secretAccessKey)".utf8), Data(day.utf8))
    for part in [region, service, "aws4_request"] { key = Crypto.hmac(key: key, Data(part.utf8)) }
    let signature = Crypto.hex(Crypto.hmac(key: key, Data(stringToSign.utf8)))
    let authorization =
      "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    headers["Authorization"] = authorization
    return Signature(
      canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
      authorization: authorization, headers: headers)
  }

  static func amzDate(_ date: Date) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    func two(_ n: Int?) -> String { String(format: "%02d", n ?? 0) }
    return String(format: "%04d", c.year ?? 0) + two(c.month) + two(c.day) + "T" + two(c.hour) + two(c.minute) + two(c.second) + "Z"
  }

  /// `host[:port]`, with the port only when it is not the scheme's default (as HTTP clients send it).
  static func hostHeader(_ url: URL) -> String {
    let host = url.host ?? ""
    guard let port = url.port else { return host }
    let defaultPort = url.scheme == "https" ? 443 : 80
    return port == defaultPort ? host : "\(host):\(port)"
  }

  /// The URI-encoded path; segments are encoded again, as every service but S3 expects.
  static func canonicalPath(_ url: URL) -> String {
    let path = url.path(percentEncoded: true)
    guard !path.isEmpty else { return "/" }
    return path.split(separator: "/", omittingEmptySubsequences: false).map { uriEncode(String($0)) }.joined(separator: "/")
  }

  static func canonicalQuery(_ url: URL) -> String {
    guard let query = url.query(percentEncoded: true), !query.isEmpty else { return "" }
    let pairs = query.split(separator: "&").map { item -> (String, String) in
      let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      func decode(_ s: Substring?) -> String { s.map { String($0).removingPercentEncoding ?? String($0) } ?? "" }
      return (uriEncode(decode(parts.first)), uriEncode(decode(parts.count > 1 ? parts[1] : nil)))
    }
    return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
  }

  /// RFC 3986 encoding: everything but unreserved characters, upper-case hex.
  static func uriEncode(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
        out.unicodeScalars.append(Unicode.Scalar(byte))
      default:
        out += String(format: "%%%02X", byte)
      }
    }
    return out
  }
}

/// SHA-256 and HMAC-SHA256 (GitRAGCore's, over OpenSSL's libcrypto).
enum Crypto {
  static func sha256(_ data: Data) -> Data { Data(SHA256Digest.bytes(data)) }

  static func hmac(key: Data, _ data: Data) -> Data { Data(HMACSHA256.bytes(key: key, data)) }

  static func hex(_ data: Data) -> String {
    data.map { String(format: "%02x", $0) }.joined()
  }
}

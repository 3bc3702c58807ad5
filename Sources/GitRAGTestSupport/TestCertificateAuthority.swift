import Foundation

/// A certificate authority made for one test with the `openssl` command: its certificate
/// (`caFile`, what a client is told to trust) and a server certificate it signed for 127.0.0.1
/// (`certificateFile` + `keyFile`, what a test server presents).
public struct TestCertificateAuthority: Sendable {
  public let caFile: String
  public let certificateFile: String
  public let keyFile: String

  /// Creates the CA and the server certificate in `directory` (valid for one day).
  public init(in directory: URL) throws {
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    caFile = path("ca.pem")
    certificateFile = path("server.pem")
    keyFile = path("server-key.pem")
    let extensions = path("server.ext")
    try "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n".write(
      toFile: extensions, atomically: true, encoding: .utf8)
    try runProcess(
      "openssl",
      [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("ca-key.pem"), "-out", caFile, "-days", "1",
        "-subj", "/CN=git-rag test CA",
      ])
    try runProcess(
      "openssl",
      [
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", path("server.csr"), "-subj", "/CN=127.0.0.1",
      ])
    try runProcess(
      "openssl",
      [
        "x509", "-req", "-in", path("server.csr"), "-CA", caFile, "-CAkey", path("ca-key.pem"), "-CAcreateserial",
        "-out", certificateFile, "-days", "1", "-extfile", extensions,
      ])
  }
}

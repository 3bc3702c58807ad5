internal import CLibGit2
import Foundation

/// Settings of one clone.
public struct CloneOptions: Sendable {
  /// Branch to clone instead of the remote's default.
  public var branch: String?
  /// Home folder whose `.ssh` holds keys, `config` and `known_hosts`.
  public var home: URL
  /// Where tokens (`GITHUB_TOKEN`, `GIT_RAG_TOKEN`, `GIT_RAG_TOKEN_USER`) and `SSH_AUTH_SOCK` are read.
  public var environment: [String: String]
  /// Trust and record the host key of an ssh host not yet in known_hosts (a changed key is always refused).
  public var acceptNewHostKey = false
  /// Clone without a working tree (indexing reads the object database only).
  public var bare = true
  /// Notes for the user: skipped keys, an added host key.
  public var onNote: (@Sendable (String) -> Void)?
  /// Seconds a connection may take to open (`GIT_RAG_CONNECT_TIMEOUT`).
  public var connectTimeout: TimeInterval = 30
  /// Seconds the clone may go without receiving data or making progress (`GIT_RAG_IDLE_TIMEOUT`).
  public var idleTimeout: TimeInterval = 60

  public init(home: URL, environment: [String: String]) {
    self.home = home
    self.environment = environment
  }
}

extension Repository {
  /// Clones `location` into `directory` (which must not exist or be empty) with libgit2.
  ///
  /// Credentials reach libgit2 only through its credential callback: the ssh-agent (when
  /// `SSH_AUTH_SOCK` is set), then each key file in `~/.ssh` once; for http(s), a token from the
  /// environment after the server asks for one. ssh host keys are checked against
  /// `~/.ssh/known_hosts`. Nothing secret is written to the clone's `.git/config`.
  public static func clone(_ location: CloneLocation, into directory: URL, options: CloneOptions) throws -> Repository {
    ensureLibGit2()
    let session = CredentialSession(location: location, options: options)
    var cloneOptions = git_clone_options()
    try check(git_clone_options_init(&cloneOptions, UInt32(GIT_CLONE_OPTIONS_VERSION)), "git_clone_options_init")
    cloneOptions.bare = options.bare ? 1 : 0
    cloneOptions.fetch_opts.callbacks.credentials = credentialCallback
    cloneOptions.fetch_opts.callbacks.certificate_check = certificateCallback
    cloneOptions.fetch_opts.callbacks.transfer_progress = progressCallback
    cloneOptions.fetch_opts.callbacks.sideband_progress = sidebandCallback
    cloneOptions.fetch_opts.callbacks.payload = Unmanaged.passUnretained(session).toOpaque()
    cloneOptions.fetch_opts.follow_redirects = GIT_REMOTE_REDIRECT_INITIAL

    var pointer: OpaquePointer?
    let watchdog = CloneWatchdog(connect: options.connectTimeout, idle: options.idleTimeout)
    session.watchdog = watchdog
    let rc: Int32 = withExtendedLifetime(session) {
      if let branch = options.branch {
        return branch.withCString { name in
          cloneOptions.checkout_branch = name
          return git_clone(&pointer, location.url, directory.path, &cloneOptions)
        }
      }
      return git_clone(&pointer, location.url, directory.path, &cloneOptions)
    }
    let error = rc < 0 ? lastError(rc, "git_clone") : nil
    watchdog.stop()
    if let error {
      if let deadline = watchdog.expired {
        let host = location.port.map { "\(location.host ?? location.url):\($0)" } ?? (location.host ?? location.url)
        throw CloneError.deadline(host: host, deadline)
      }
      throw session.failure ?? classify(error, location: location, branch: options.branch)
    }
    git_repository_free(pointer)
    return try Repository(path: directory)
  }

  /// A user-facing reason for a libgit2 clone failure the callbacks did not already explain.
  static func classify(_ error: GitError, location: CloneLocation, branch: String?) -> CloneError {
    let message = error.message
    let lower = message.lowercased()
    let host = location.host ?? location.url
    if let branch, lower.contains("not found"), lower.contains(branch.lowercased()) || lower.contains("remote branch") {
      return .branchNotFound(branch: branch, url: location.redacted)
    }
    if lower.contains("resolve") || lower.contains("name or service not known") || lower.contains("no address") {
      return .hostNotFound(host: host, detail: message)
    }
    if lower.contains("failed to connect") || lower.contains("connection refused") || lower.contains("timed out")
      || lower.contains("unreachable") || lower.contains("failed to start ssh session")
    {
      return .unreachable(host: location.port.map { "\(host):\($0)" } ?? host, detail: message)
    }
    if lower.contains("404") || lower.contains("not found") || lower.contains("does not appear to be a git repository")
      || lower.contains("not a git repository") || lower.contains("could not find repository")
    {
      return .repositoryNotFound(url: location.redacted)
    }
    if error.code == -16 || lower.contains("401") || lower.contains("authentication") {
      return location.transport == .ssh
        ? .sshKeysRejected(host: host, tried: [], skipped: [])
        : .tokenRejected(host: host)
    }
    return .failed(url: location.redacted, detail: message)
  }
}

/// Per-clone state shared with the C callbacks through their payload pointer: which credentials
/// were tried, and the reason to report when libgit2 gives up.
final class CredentialSession {
  let location: CloneLocation
  let options: CloneOptions
  var agentTried = false
  var pendingKeys: [URL]?
  var triedKeys: [String] = []
  var skippedKeys: [String] = []
  var tokenAttempts = 0
  var failure: CloneError?
  var watchdog: CloneWatchdog?
  /// What a push reported through its callbacks.
  var push = PushResult()

  init(location: CloneLocation, options: CloneOptions) {
    self.location = location
    self.options = options
  }

  var host: String { location.host ?? "" }
  var port: Int { location.port ?? 22 }

  /// The user name ssh logs in as: the URL's, else the local user's.
  var sshUser: String {
    if let user = location.user, !user.isEmpty { return user }
    if let user = options.environment["USER"], !user.isEmpty { return user }
    if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
    return "git"
  }

  /// The token for http(s), read from the environment; nil when none is set.
  var token: String? {
    let env = options.environment
    let names = host == "github.com" ? ["GITHUB_TOKEN", "GIT_RAG_TOKEN"] : ["GIT_RAG_TOKEN", "GITHUB_TOKEN"]
    return names.lazy.compactMap { env[$0] }.first { !$0.isEmpty }
  }

  /// The user name a provider expects next to a token.
  var tokenUser: String {
    let lower = host.lowercased()
    if lower == "github.com" || lower.hasSuffix(".github.com") { return "x-access-token" }
    if lower.contains("gitlab") { return "oauth2" }
    if lower.contains("bitbucket") { return "x-token-auth" }
    if let user = options.environment["GIT_RAG_TOKEN_USER"], !user.isEmpty { return user }
    return "git"
  }

  func note(_ text: String) { options.onNote?(text) }

  /// The next key file to offer, skipping (with a note) keys that need a passphrase.
  func nextKeyFile() -> URL? {
    if pendingKeys == nil { pendingKeys = SSHKeyFinder(home: options.home).keys(for: host) }
    while let key = pendingKeys?.first {
      pendingKeys?.removeFirst()
      if SSHKeyFinder.isEncrypted(key) {
        skippedKeys.append(key.lastPathComponent)
        note("Skipping passphrase-protected SSH key \(key.path); add it to ssh-agent to use it.")
        continue
      }
      return key
    }
    return nil
  }

  func credential(_ out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>, usernameFromURL: String?, allowed: UInt32) -> Int32 {
    if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
      let user = usernameFromURL ?? sshUser
      if !agentTried, let socket = options.environment["SSH_AUTH_SOCK"], !socket.isEmpty {
        agentTried = true
        triedKeys.append("ssh-agent")
        return git_credential_ssh_key_from_agent(out, user)
      }
      agentTried = true
      if let key = nextKeyFile() {
        triedKeys.append(key.lastPathComponent)
        let publicKey = key.path + ".pub"
        let hasPublic = FileManager.default.fileExists(atPath: publicKey)
        return git_credential_ssh_key_new(out, user, hasPublic ? publicKey : nil, key.path, nil)
      }
      failure = triedKeys.isEmpty ? .noSSHKeys(skipped: skippedKeys) : .sshKeysRejected(host: host, tried: triedKeys, skipped: skippedKeys)
      return GIT_EAUTH.rawValue
    }
    if allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0 {
      return git_credential_username_new(out, sshUser)
    }
    if allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 {
      tokenAttempts += 1
      guard let token else {
        failure = .tokenMissing(host: host)
        return GIT_EAUTH.rawValue
      }
      // libgit2 asks again after the server refused what we gave: the token was rejected.
      if tokenAttempts > 1 {
        failure = .tokenRejected(host: host)
        return GIT_EAUTH.rawValue
      }
      return git_credential_userpass_plaintext_new(out, tokenUser, token)
    }
    failure = .failed(url: location.redacted, detail: "the server asked for an authentication method git-rag does not support")
    return GIT_EAUTH.rawValue
  }

  func certificate(_ cert: UnsafeMutablePointer<git_cert>) -> Int32 {
    guard cert.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2 else { return GIT_PASSTHROUGH.rawValue }
    let hostkey = UnsafeMutableRawPointer(cert).assumingMemoryBound(to: git_cert_hostkey.self).pointee
    guard hostkey.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = hostkey.hostkey else {
      failure = .failed(url: location.redacted, detail: "the ssh library did not provide the server's host key")
      return GIT_ECERTIFICATE.rawValue
    }
    let key = [UInt8](UnsafeRawBufferPointer(start: raw, count: hostkey.hostkey_len))
    let knownHosts = KnownHosts(file: options.home.appendingPathComponent(".ssh/known_hosts"))
    let fingerprint = KnownHosts.fingerprint(key)
    switch knownHosts.verdict(host: host, port: port, key: key) {
    case .match:
      return 0
    case .changed:
      failure = .changedHostKey(host: host, port: port, fingerprint: fingerprint, knownHosts: knownHosts.file.path)
      return GIT_ECERTIFICATE.rawValue
    case .unknown:
      guard options.acceptNewHostKey else {
        failure = .unknownHostKey(host: host, port: port, fingerprint: fingerprint, knownHosts: knownHosts.file.path)
        return GIT_ECERTIFICATE.rawValue
      }
      do {
        try knownHosts.append(host: host, port: port, key: key)
        note("Added the host key of \(location.knownHostsName) (\(fingerprint)) to \(knownHosts.file.path).")
        return 0
      } catch {
        failure = .failed(url: location.redacted, detail: "cannot write \(knownHosts.file.path): \(error.localizedDescription)")
        return GIT_ECERTIFICATE.rawValue
      }
    }
  }
}

let credentialCallback: git_credential_acquire_cb = { out, _, usernameFromURL, allowed, payload in
  guard let out, let payload else { return -1 }
  let session = Unmanaged<CredentialSession>.fromOpaque(payload).takeUnretainedValue()
  return session.credential(out, usernameFromURL: usernameFromURL.map { String(cString: $0) }, allowed: allowed)
}

let certificateCallback: git_transport_certificate_check_cb = { cert, _, _, payload in
  guard let cert, let payload else { return GIT_PASSTHROUGH.rawValue }
  let session = Unmanaged<CredentialSession>.fromOpaque(payload).takeUnretainedValue()
  return session.certificate(cert)
}

private let progressCallback: git_indexer_progress_cb = { _, payload in
  if let payload { Unmanaged<CredentialSession>.fromOpaque(payload).takeUnretainedValue().watchdog?.progressed() }
  return 0
}

private let sidebandCallback: git_transport_message_cb = { _, _, payload in
  if let payload { Unmanaged<CredentialSession>.fromOpaque(payload).takeUnretainedValue().watchdog?.progressed() }
  return 0
}

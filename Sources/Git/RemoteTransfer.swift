internal import CLibGit2
import Foundation
import GitRAGCore

/// What one push did.
public struct PushResult: Sendable, Hashable {
  /// Objects packed and sent (0 when the remote already had them all, or for a local remote).
  public var objects = 0
  /// Bytes of pack data sent.
  public var bytes = 0
  /// References the remote refused, with its reason (`fetch first`, `non-fast-forward`, ...).
  public var rejected: [String: String] = [:]

  public init() {}
}

extension Repository {
  /// Where `remote` points: the URL of the configured remote of that name (credentials stripped),
  /// else `remote` itself read as a URL or a path.
  public func remoteLocation(_ remote: String) throws -> CloneLocation {
    if let url = remoteURL(remote) { return try CloneLocation.parse(url, relativeTo: workdir ?? gitDir) }
    guard remote.contains("/") || remote.contains(":") else {
      throw GitRAGError("No remote named \(remote). Pass a remote name (see git remote -v) or a URL, or set rag.remote.", exitCode: 2)
    }
    return try CloneLocation.parse(remote, relativeTo: workdir ?? gitDir)
  }

  /// The remote's references whose names start with `prefix` (`git ls-remote`).
  public func remoteReferences(_ location: CloneLocation, prefix: String, options: CloneOptions) throws -> [String: ObjectID] {
    try withRemote(location, options: options) { remote, callbacks, session in
      var proxy = git_proxy_options()
      git_proxy_options_init(&proxy, UInt32(GIT_PROXY_OPTIONS_VERSION))
      var connectCallbacks = callbacks
      try transfer(session, location, git_remote_connect(remote, GIT_DIRECTION_FETCH, &connectCallbacks, &proxy, nil), "git_remote_connect")
      defer { git_remote_disconnect(remote) }
      var heads: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
      var count = 0
      try check(git_remote_ls(&heads, &count, remote), "git_remote_ls")
      var result: [String: ObjectID] = [:]
      for index in 0..<count {
        guard let head = heads?[index], let name = head.pointee.name.map({ String(lossyCString: $0) }) else { continue }
        if name.hasPrefix(prefix) { result[name] = ObjectID(oid: head.pointee.oid) }
      }
      return result
    }
  }

  /// Fetches `refspecs` (`+refs/rag/x:refs/rag/x`) from `location` through libgit2, with the
  /// credentials and host-key checks of a clone. Tags are not followed.
  public func fetch(_ location: CloneLocation, refspecs: [String], options: CloneOptions) throws {
    try withRemote(location, options: options) { remote, callbacks, session in
      var fetchOptions = git_fetch_options()
      try check(git_fetch_options_init(&fetchOptions, UInt32(GIT_FETCH_OPTIONS_VERSION)), "git_fetch_options_init")
      fetchOptions.callbacks = callbacks
      fetchOptions.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE
      fetchOptions.prune = GIT_FETCH_NO_PRUNE
      fetchOptions.follow_redirects = GIT_REMOTE_REDIRECT_INITIAL
      try withStringArray(refspecs) { array in
        try transfer(session, location, git_remote_fetch(remote, &array, &fetchOptions, "git-rag: fetch"), "git_remote_fetch")
      }
    }
  }

  /// Pushes `refspecs` to `location` through libgit2. A reference the remote (or libgit2, for a
  /// non-fast-forward) refuses comes back in `rejected` rather than as an error.
  public func push(_ location: CloneLocation, refspecs: [String], options: CloneOptions) throws -> PushResult {
    try withRemote(location, options: options) { remote, callbacks, session in
      var pushOptions = git_push_options()
      try check(git_push_options_init(&pushOptions, UInt32(GIT_PUSH_OPTIONS_VERSION)), "git_push_options_init")
      pushOptions.callbacks = callbacks
      pushOptions.callbacks.push_transfer_progress = pushProgressCallback
      pushOptions.callbacks.push_update_reference = pushReferenceCallback
      pushOptions.follow_redirects = GIT_REMOTE_REDIRECT_INITIAL
      let rc = try withStringArray(refspecs) { array in git_remote_push(remote, &array, &pushOptions) }
      if rc == GIT_ENONFASTFORWARD.rawValue {
        let reason = lastError(rc, "git_remote_push").message
        for refspec in refspecs { session.push.rejected[String(refspec.split(separator: ":").last ?? "")] = reason }
        return session.push
      }
      try transfer(session, location, rc, "git_remote_push")
      return session.push
    }
  }

  /// Runs `body` with an anonymous remote for `location` and callbacks wired to a credential session.
  private func withRemote<T>(
    _ location: CloneLocation, options: CloneOptions,
    _ body: (OpaquePointer, git_remote_callbacks, CredentialSession) throws -> T
  ) throws -> T {
    ensureLibGit2()
    var remote: OpaquePointer?
    try check(git_remote_create_anonymous(&remote, handle, location.url), "git_remote_create_anonymous")
    defer { git_remote_free(remote) }
    let session = CredentialSession(location: location, options: options)
    var callbacks = git_remote_callbacks()
    try check(git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION)), "git_remote_init_callbacks")
    callbacks.credentials = credentialCallback
    callbacks.certificate_check = certificateCallback
    callbacks.payload = Unmanaged.passUnretained(session).toOpaque()
    return try withExtendedLifetime(session) { try body(remote!, callbacks, session) }
  }

  /// Turns a failed transfer into the clone error a user can act on (wrong key, missing token, ...).
  private func transfer(_ session: CredentialSession, _ location: CloneLocation, _ rc: Int32, _ function: String) throws {
    guard rc < 0 else { return }
    let error = lastError(rc, function)
    throw session.failure ?? Repository.classify(error, location: location, branch: nil)
  }
}

private func withStringArray<T>(_ strings: [String], _ body: (inout git_strarray) throws -> T) throws -> T {
  var pointers = strings.map { strdup($0) }
  defer { for pointer in pointers { free(pointer) } }
  return try pointers.withUnsafeMutableBufferPointer { buffer in
    var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
    return try body(&array)
  }
}

private let pushProgressCallback: git_push_transfer_progress_cb = { _, total, bytes, payload in
  guard let payload else { return 0 }
  let session = Unmanaged<CredentialSession>.fromOpaque(payload).takeUnretainedValue()
  session.push.objects = max(session.push.objects, Int(total))
  session.push.bytes = max(session.push.bytes, bytes)
  return 0
}

private let pushReferenceCallback: git_push_update_reference_cb = { name, status, payload in
  guard let payload, let name, let status else { return 0 }
  let session = Unmanaged<CredentialSession>.fromOpaque(payload).takeUnretainedValue()
  session.push.rejected[String(lossyCString: name)] = String(lossyCString: status)
  return 0
}

import Foundation
import GitRAGCore

/// Why a clone was refused or failed, in words a user can act on.
public enum CloneError: UserFacingError, Equatable {
  case unsupportedURL(String)
  case transportRefused(String)
  case optionLike(String)
  case credentialsInURL(String)
  case localRepositoryMissing(String)
  case noSSHKeys(skipped: [String])
  case sshKeysRejected(host: String, tried: [String], skipped: [String])
  case tokenMissing(host: String)
  case tokenRejected(host: String)
  case unknownHostKey(host: String, port: Int, fingerprint: String, knownHosts: String)
  case changedHostKey(host: String, port: Int, fingerprint: String, knownHosts: String)
  case hostNotFound(host: String, detail: String)
  case unreachable(host: String, detail: String)
  case repositoryNotFound(url: String)
  case branchNotFound(branch: String, url: String)
  case failed(url: String, detail: String)
  /// The watchdog ended a clone that stopped answering.
  case deadline(host: String, CloneDeadline)

  public var exitCode: Int32 {
    switch self {
    case .unsupportedURL, .transportRefused, .optionLike, .credentialsInURL: ExitStatus.usage
    default: ExitStatus.failure
    }
  }

  public var errorDescription: String? {
    switch self {
    case .unsupportedURL(let url):
      "Unsupported repository URL: \(url). Use git@host:owner/repo, ssh://, https://, http:// or a local path."
    case .transportRefused(let transport):
      "Refusing the \(transport):: transport (it runs commands). Use git@host:owner/repo, ssh://, https:// or a local path."
    case .optionLike(let url):
      "Refusing repository URL \(url): it looks like a command-line option. Pass a URL or a path that does not start with '-'."
    case .credentialsInURL(let url):
      "Credentials in repository URLs are not accepted (\(url)). Remove them from the URL and set GITHUB_TOKEN or GIT_RAG_TOKEN instead."
    case .localRepositoryMissing(let path):
      "No repository at \(path). Check the path, or pass a URL."
    case .noSSHKeys(let skipped):
      "No SSH keys found in ~/.ssh\(skipped.isEmpty ? "" : " (skipped passphrase-protected: \(skipped.joined(separator: ", ")); load them into ssh-agent)"). Mount a key or run ssh-keygen -t ed25519, then add the public key to the provider."
    case let .sshKeysRejected(host, tried, skipped):
      "All SSH keys were rejected by \(host) (tried: \(tried.joined(separator: ", "))\(skipped.isEmpty ? "" : "; skipped passphrase-protected: \(skipped.joined(separator: ", "))")). Ensure the public key is added to the provider and has access to the repository."
    case .tokenMissing(let host):
      host == "github.com"
        ? "Repository is private but no token is set. Generate a personal access token at https://github.com/settings/tokens and set GITHUB_TOKEN (or GIT_RAG_TOKEN)."
        : "Repository on \(host) is private but no token is set. Create an access token with read access to it and set GIT_RAG_TOKEN (or GITHUB_TOKEN)."
    case .tokenRejected(let host):
      "Token rejected by \(host). Check its expiry and repository scope."
    case let .unknownHostKey(host, port, fingerprint, knownHosts):
      "Unknown SSH host key for \(hostName(host, port)) (\(fingerprint)); not in \(knownHosts). If you trust it, run: ssh-keyscan -p \(port) \(host) >> ~/.ssh/known_hosts (or pass --accept-new-host-key)."
    case let .changedHostKey(host, port, fingerprint, knownHosts):
      "The SSH host key of \(hostName(host, port)) has CHANGED (now \(fingerprint)), it does not match \(knownHosts): someone may be intercepting the connection. If the change is expected, remove the old entry (ssh-keygen -R '\(hostName(host, port))') and run: ssh-keyscan -p \(port) \(host) >> ~/.ssh/known_hosts"
    case let .hostNotFound(host, detail):
      "Cannot resolve host \(host) (\(detail)). Check the URL and your network or DNS."
    case let .unreachable(host, detail):
      "Cannot connect to \(host) (\(detail)). Check the URL, the port and your network."
    case .repositoryNotFound(let url):
      "Repository not found: \(url). Check the URL; a private repository also needs access (a token for https, a key for ssh)."
    case let .branchNotFound(branch, url):
      "Branch \(branch) not found in \(url). Check --branch; omit it to use the default branch."
    case let .failed(url, detail):
      "Cloning \(url) failed: \(detail)"
    case let .deadline(host, .connect(seconds)):
      "Cannot connect to \(host): no connection within \(Self.seconds(seconds)) (connect deadline). Check the URL, the port and your network, or raise GIT_RAG_CONNECT_TIMEOUT."
    case let .deadline(host, .idle(seconds)):
      "\(host) stopped answering: nothing received for \(Self.seconds(seconds)) (idle deadline). Check the server, or raise GIT_RAG_IDLE_TIMEOUT."
    }
  }

  private static func seconds(_ value: TimeInterval) -> String {
    value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
  }

  private func hostName(_ host: String, _ port: Int) -> String { port == 22 ? host : "[\(host)]:\(port)" }
}

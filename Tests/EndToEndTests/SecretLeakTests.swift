import Foundation
import GitRAGTestSupport
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A fake secret planted in the fixture: its value, and the random part searched for (in any case).
private struct Planted {
  let family: String
  let value: String
  /// For secrets in files that stay indexed: an identifier on the same line, which search must
  /// still find next to the `«redacted:` marker.
  let anchor: String?
  var needles: [String] {
    let body = String(value.suffix(16))
    return [value.lowercased(), body.lowercased()]
  }
}

/// Plants secrets of every family in code, config, docs, Python files, a file renamed later, a
/// one-file commit and an uploaded archive; runs every command that shows or sends content; then
/// looks for every secret in every artefact: store files, the user cache, the hook log, stdout and
/// stderr, the texts the embedding server received, the Qdrant payloads and the job specs.
@Suite(.serialized) struct SecretLeakTests {
  @Test func noSecretReachesAnyArtefactAndTheCodeAroundThemIsStillFound() async throws {
    var seed: UInt64 = 100
    var planted: [Planted] = []
    func secret(_ family: String, _ prefix: String, _ alphabet: [Character], _ count: Int, suffix: String = "", anchor: String?) -> String {
      seed += 1
      let value = prefix + FakeSecret.string(alphabet, count, seed: seed) + suffix
      planted.append(Planted(family: family, value: value, anchor: anchor))
      return value
    }
    let alnum = FakeSecret.alnum, hex = FakeSecret.hex, base64 = FakeSecret.base64, upper = FakeSecret.upper

    let e2e = try EndToEnd()
    var files: [String: String] = [:]
    files["app/payments.py"] = """
      # Payment helpers.
      import stripe

      STRIPE_LIVE_KEY = "\(secret("stripe", "sk_live_", alnum, 24, anchor: "STRIPE_LIVE_KEY"))"
      STRIPE_TEST_KEY = "\(secret("stripe", "sk_test_", alnum, 24, anchor: "STRIPE_TEST_KEY"))"


      def charge_customer(amount):
          stripe.api_key = STRIPE_LIVE_KEY
          return stripe.Charge.create(amount=amount)

      """
    files["app/ai_clients.py"] = """
      OPENAI_PROJECT_KEY = "\(secret("openai", "sk-proj-", alnum, 64, anchor: "OPENAI_PROJECT_KEY"))"
      ANTHROPIC_CLIENT_KEY = "\(secret("anthropic", "sk-ant-api03-", alnum, 90, anchor: "ANTHROPIC_CLIENT_KEY"))"
      HUGGINGFACE_HUB_TOKEN = "\(secret("huggingface", "hf_", FakeSecret.letters, 34, anchor: "HUGGINGFACE_HUB_TOKEN"))"


      def make_clients():
          return OPENAI_PROJECT_KEY, ANTHROPIC_CLIENT_KEY

      """
    files["app/cloud.py"] = """
      AWS_ACCESS_KEY_ID = "\(secret("aws", "AKIA", upper, 16, anchor: "AWS_ACCESS_KEY_ID"))"
      GOOGLE_MAPS_API_KEY = "\(secret("gcp", "AIza", alnum, 35, anchor: "GOOGLE_MAPS_API_KEY"))"
      GOOGLE_OAUTH_SECRET = "\(secret("gcp", "GOCSPX-", alnum, 28, anchor: "GOOGLE_OAUTH_SECRET"))"
      AZURE_STORAGE_CONNECTION = "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=\(secret("azure", "", base64, 86, suffix: "==", anchor: "AZURE_STORAGE_CONNECTION"));EndpointSuffix=core.windows.net"
      AZURE_BLOB_SAS_URL = "https://acme.blob.core.windows.net/c?sv=2022-11-02&ss=b&sig=\(secret("azure", "", alnum, 43, suffix: "%3D", anchor: "AZURE_BLOB_SAS_URL"))"
      AZURE_CLIENT_SECRET = "\(secret("azure", "abc1Q~", alnum, 34, anchor: "AZURE_CLIENT_SECRET"))"


      def boto_session():
          # The secret key alone, without its id next to it.
          aws_secret_access_key = "\(secret("aws", "", base64, 40, anchor: "aws_secret_access_key"))"
          return aws_secret_access_key

      """
    files["config/services.yaml"] = """
      github_token: \(secret("github", "ghp_", alnum, 36, anchor: "github_token"))
      github_fine_grained: \(secret("github", "github_pat_", alnum, 82, anchor: "github_fine_grained"))
      gitlab_ci_token: \(secret("gitlab", "glpat-", alnum, 20, anchor: "gitlab_ci_token"))
      bitbucket_app_password: \(secret("bitbucket", "ATBB", alnum, 32, anchor: "bitbucket_app_password"))
      jira_api_token: \(secret("bitbucket", "ATATT3", alnum, 180, anchor: "jira_api_token"))
      slack_bot_token: \(secret("slack", "xoxb-", alnum, 40, anchor: "slack_bot_token"))
      slack_alerts_webhook: https://hooks.slack.com/services/\(secret("slack", "T0", upper, 30, anchor: "slack_alerts_webhook"))
      sendgrid_mail_key: \(secret("sendgrid", "SG.", alnum, 22, suffix: "." + FakeSecret.string(alnum, 43, seed: 999), anchor: "sendgrid_mail_key"))
      twilio_api_key: \(secret("twilio", "SK", hex, 32, anchor: "twilio_api_key"))
      twilio_auth_token: \(secret("twilio", "", hex, 32, anchor: "twilio_auth_token"))
      npm_publish_token: \(secret("npm", "npm_", alnum, 36, anchor: "npm_publish_token"))
      pypi_upload_token: \(secret("pypi", "pypi-AgEIcHlwaS5vcmc", alnum, 60, anchor: "pypi_upload_token"))
      terraform_cloud_token: \(secret("terraform", FakeSecret.string(alnum, 14, seed: 998) + ".atlasv1.", alnum, 67, anchor: "terraform_cloud_token"))
      orders_database_url: postgres://app:\(secret("url", "pw", alnum, 18, anchor: "orders_database_url"))@db.internal:5432/orders
      session_jwt: \(secret("jwt", "eyJ" + FakeSecret.string(alnum, 20, seed: 997) + ".eyJ" + FakeSecret.string(alnum, 30, seed: 996) + ".", alnum, 43, anchor: "session_jwt"))
      reporting_api_key: \(secret("generic", "", alnum, 32, anchor: "reporting_api_key"))

      """
    files["docs/setup.md"] = """
      # Setup

      Point the service at the document database:

      ```sh
      export MONGO_URL="mongodb://admin:\(secret("url", "Mg", alnum, 18, anchor: "MONGO_URL"))@mongo:27017/app"
      export DJANGO_SECRET_KEY=\(secret("generic", "", alnum, 40, anchor: "DJANGO_SECRET_KEY"))
      ```

      The chat bot posts with SLACK_USER_TOKEN=\(secret("slack", "xoxp-", alnum, 40, anchor: "SLACK_USER_TOKEN")).

      """
    files["k8s/db-secret.yaml"] = """
      apiVersion: v1
      kind: Secret
      metadata:
        name: orders-db
      type: Opaque
      data:
        password: \(secret("kubernetes", "", base64, 32, suffix: "==", anchor: nil))
        api-token: \(secret("kubernetes", "", base64, 40, anchor: nil))

      """
    files["docker/config.json"] = """
      {
        "auths": {
          "registry.example.com": {
            "auth": "\(secret("docker", "", base64, 28, suffix: "=", anchor: nil))"
          }
        }
      }

      """
    // Secrets by name or key material: skipped whole.
    files["prod.env"] = "DB_PASSWORD=\(secret("env", "", alnum, 20, anchor: nil))\n"
    files["secrets.env"] = "PAYMENT_TOKEN=\(secret("env", "", alnum, 20, anchor: nil))\n"
    files[".env"] = "LOCAL_TOKEN=\(secret("env", "", alnum, 20, anchor: nil))\n"
    files["infra/terraform.tfstate"] = """
      {"version": 4, "terraform_version": "1.6.0", "resources": [{"type": "aws_db_instance", "instances": [{"attributes": {"password": "\(secret("terraform", "", alnum, 24, anchor: nil))"}}]}]}

      """
    let keyBody = { (anchor: String?) in secret("private-key", "MII", base64, 64, anchor: anchor) }
    files["deploy/id_deploy"] = "-----BEGIN OPENSSH PRIVATE KEY-----\n\(keyBody(nil))\n-----END OPENSSH PRIVATE KEY-----\n"
    files["certs/server.pem"] = "-----BEGIN PRIVATE KEY-----\n\(keyBody(nil))\n-----END PRIVATE KEY-----\n"
    files["app/signing.py"] = """
      SIGNING_KEY = '''-----BEGIN RSA PRIVATE KEY-----
      \(keyBody(nil))
      -----END RSA PRIVATE KEY-----'''


      def load_signing_material_qzx():
          return SIGNING_KEY

      """
    files[".npmrc"] = "//registry.npmjs.org/:_authToken=\(secret("npm", "", alnum, 36, anchor: nil))\n"
    files["gcp/service-account.json"] = """
      {"type": "service_account", "project_id": "acme", "private_key_id": "\(secret("gcp", "", hex, 40, anchor: nil))", "private_key": "-----BEGIN PRIVATE KEY-----\\n\(keyBody(nil))\\n-----END PRIVATE KEY-----\\n"}

      """
    // Renamed later: to a secret's name (then skipped), and to an ordinary name (chunks move).
    files["config/local_settings.txt"] = "LOCAL_DB_PASSWORD = \(secret("generic", "", alnum, 24, anchor: nil))\n"
    files["app/legacy_billing.py"] = """
      LEGACY_BILLING_KEY = "\(secret("stripe", "sk_live_", alnum, 28, anchor: "LEGACY_BILLING_KEY"))"


      def legacy_invoice_total(lines):
          return sum(lines)

      """
    try e2e.repo.commit(files, message: "fixture with fake secrets")

    let apiToken = secret("job", "tok-", alnum, 24, anchor: nil)
    let qdrantKey = secret("job", "qk-", alnum, 24, anchor: nil)
    var outputs: [String] = []
    func run(_ arguments: [String], environment extra: [String: String] = [:], expect status: Int32 = 0) throws -> ProcessResult {
      var env = e2e.environment
      for (key, value) in extra { env[key] = value }
      let result = try GitRAGBinary.run(arguments, in: e2e.repo.url, environment: env)
      outputs.append("$ git-rag \(arguments.joined(separator: " "))\n\(result.stdout)\n\(result.stderr)")
      #expect(result.status == status, "\(arguments): \(result.stderr)")
      return result
    }

    // 1. The first index, verbose and traced.
    let first = try run(["sync", "-v"], environment: ["GIT_RAG_TRACE": "1"])
    #expect(first.stderr.contains("secret:"), "skip lines name secrets by kind: \(first.stderr)")

    // 2. A one-file commit, indexed by the post-commit hook.
    #expect(try run(["hooks", "install"]).status == 0)
    let payments = e2e.repo.url.appendingPathComponent("app/payments.py")
    let restricted = secret("stripe", "rk_live_", alnum, 24, anchor: "STRIPE_RESTRICTED_KEY")
    try (String(contentsOf: payments, encoding: .utf8) + "STRIPE_RESTRICTED_KEY = \"\(restricted)\"\n").write(
      to: payments, atomically: true, encoding: .utf8)
    try runProcess("git", ["commit", "-q", "-am", "restricted key"], in: e2e.repo.url, environment: e2e.environment)
    try waitForIndex(e2e, at: e2e.repo.head)

    // 3. Renames: to a secret's name, and a pure rename.
    var quiet = e2e.environment
    quiet["GIT_RAG_SKIP_HOOKS"] = "1"
    try runProcess("git", ["mv", "config/local_settings.txt", "config/local.env"], in: e2e.repo.url, environment: quiet)
    try runProcess("git", ["mv", "app/legacy_billing.py", "app/billing.py"], in: e2e.repo.url, environment: quiet)
    try runProcess("git", ["commit", "-q", "-m", "renames"], in: e2e.repo.url, environment: quiet)
    let renamed = try run(["sync", "-v", "--json"])
    #expect(renamed.stdout.contains("\"files_renamed\" : 2") || renamed.stdout.contains("\"files_renamed\":2"), "\(renamed.stdout)")

    // 4. The same repository into Qdrant.
    let qdrant = try TestServer(script: "qdrant_server.py")
    _ = try run(["sync", "-v", "--store", "qdrant", "--qdrant-url", qdrant.baseURL, "--collection", "leak-q"])

    // 5. An archive with secrets, uploaded.
    let bundle = try TemporaryDirectory(prefix: "git-rag-leak-archive")
    try bundle.write("service/.env", "ARCHIVE_TOKEN=\(secret("env", "", alnum, 20, anchor: nil))\n")
    try bundle.write("service/prod.env", "ARCHIVE_DB_PASSWORD=\(secret("env", "", alnum, 20, anchor: nil))\n")
    try bundle.write(
      "service/app.py",
      "DEPLOY_GITHUB_TOKEN = \"\(secret("github", "ghp_", alnum, 36, anchor: "DEPLOY_GITHUB_TOKEN"))\"\n\n\ndef deploy():\n    return DEPLOY_GITHUB_TOKEN\n"
    )
    let archive = bundle.url.appendingPathComponent("bundle.tar.gz")
    try runProcess(
      "tar", ["-czf", archive.path, "-C", bundle.url.appendingPathComponent("service").path, ".env", "prod.env", "app.py"], in: bundle.url,
      environment: quiet)
    _ = try run(["upload", "archive", archive.path, "leak-archive", "-v"])

    // 6. Everything that shows content.
    let paths =
      files.keys.sorted().filter { $0 != "config/local_settings.txt" && $0 != "app/legacy_billing.py" } + [
        "config/local.env", "app/billing.py",
      ]
    _ = try run(["inspect", "--full"] + paths)
    _ = try run(["inspect", "--json"] + paths)
    _ = try run(["status"])
    _ = try run(["status", "--json"])
    _ = try run(["search", "charge_customer"])
    _ = try run(["search", "--json", "-k", "50", "redacted"])
    _ = try run(["search", "--collection", "leak-archive", "--json", "deploy"])
    _ = try run(["search", "--store", "qdrant", "--qdrant-url", qdrant.baseURL, "--collection", "leak-q", "--json", "-k", "50", "token"])

    // The code around each redacted secret is still found, marker in place.
    for plant in planted {
      guard let anchor = plant.anchor else { continue }
      let collection = anchor == "DEPLOY_GITHUB_TOKEN" ? ["--collection", "leak-archive"] : []
      let result = try run(["search", "--json", "-k", "20"] + collection + [anchor])
      let hits = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])?["results"] as? [[String: Any]] ?? []
      let found = hits.contains { hit in
        let content = (hit["payload"] as? [String: Any])?["content"] as? String ?? ""
        return content.contains(anchor) && content.contains("«redacted:")
      }
      #expect(found, "search for \(anchor) (\(plant.family)) did not find its redacted line")
    }
    // The Python summary was indexed (files skipped whole must leave nothing in it: checked below).
    let summary = try run(["search", "--json", "-k", "50", "modules classes functions charge_customer"])
    #expect(
      summary.stdout.contains(".rag_metadata/analysis.txt") && summary.stdout.contains("charge_customer"), "\(summary.stdout.prefix(2000))")

    // 7. Job specs, with the credentials as secret references. A job indexes what the remote
    // holds, so the repository gets one, with HEAD pushed (as far as its remote-tracking ref says).
    let branch = try e2e.repo.git("symbolic-ref", "--short", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    _ = try e2e.repo.git("remote", "add", "origin", "https://git.example.com/team/leaky.git")
    _ = try e2e.repo.git("update-ref", "refs/remotes/origin/\(branch)", "HEAD")
    let jobEnvironment = ["API_TOKEN": apiToken, "QDRANT_API_KEY": qdrantKey, "QDRANT_URL": qdrant.baseURL, "AWS_REGION": "eu-west-1"]
    for runtime in [["docker"], ["kubernetes"], ["aws-batch", "--job-queue", "q", "--job-definition", "d"]] {
      // A container's SQLite store would be lost with it: jobs write to Qdrant.
      _ = try run(["sync", "--store", "qdrant", "--runtime"] + runtime + ["--print"], environment: jobEnvironment)
      var withPassword = jobEnvironment
      let password = secret("job", "pw-", alnum, 16, anchor: nil)
      withPassword["QDRANT_URL"] = "https://admin:\(password)@qdrant.example:6333"
      let refused = try run(["sync", "--store", "qdrant", "--runtime"] + runtime + ["--print"], environment: withPassword, expect: 2)
      #expect(refused.stderr.contains("QDRANT_API_KEY"), "\(refused.stderr)")
    }

    // 8. Every artefact, searched for every secret.
    var artefacts: [(String, Data)] = outputs.enumerated().map { ("output \($0.offset)", Data($0.element.utf8)) }
    for folder in [e2e.repo.url.appendingPathComponent(".git/rag"), e2e.data.url] {
      for file in allFiles(under: folder) { artefacts.append((file.path, (try? Data(contentsOf: file)) ?? Data())) }
    }
    #expect(artefacts.contains { $0.0.hasSuffix("hook.log") }, "the hook ran and left its log")
    let stats = try Data(contentsOf: URL(string: e2e.server.baseURL + "/stats")!)
    let embedded = (try JSONSerialization.jsonObject(with: stats) as? [String: Any]) ?? [:]
    #expect(
      (embedded["texts_embedded"] as? Int ?? 0) > 0 && (embedded["texts_embedded"] as? Int ?? 0) < 2000,
      "every text is in the server's window")
    artefacts.append(("embedding server texts", stats))
    for collection in ["leak-q"] {
      artefacts.append(
        ("qdrant points", try post(qdrant.baseURL + "/collections/\(collection)/points/scroll", ["limit": 10000, "with_payload": true])))
      artefacts.append(("qdrant collection", try Data(contentsOf: URL(string: qdrant.baseURL + "/collections/\(collection)")!)))
    }

    #expect(planted.count >= 40, "\(planted.count) secrets planted")
    #expect(Set(planted.map(\.family)).count >= 18)
    var hits: [String] = []
    for (name, data) in artefacts {
      let haystack = Data(data.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 })
      for plant in planted {
        for needle in plant.needles where haystack.range(of: Data(needle.utf8)) != nil {
          hits.append("\(plant.family) secret in \(name)")
        }
      }
      if haystack.range(of: Data("load_signing_material_qzx".utf8)) != nil { hits.append("a skipped file's function name in \(name)") }
    }
    #expect(hits.isEmpty, "\(hits.count) hits: \(Set(hits).sorted().joined(separator: "; "))")
    // The marker itself did travel: redaction happened rather than nothing being indexed.
    #expect(
      artefacts.contains { $0.0 == "embedding server texts" && String(decoding: $0.1, as: UTF8.self).contains("redacted:stripe-live-key") })

    // The user cache is private.
    let cache = e2e.data.url.appendingPathComponent("cache/git-rag")
    var info = stat()
    #expect(stat(cache.path, &info) == 0 && info.st_mode & 0o777 == 0o700)
    for file in allFiles(under: cache) where stat(file.path, &info) == 0 {
      #expect(info.st_mode & 0o077 == 0, "\(file.path) is readable by others")
    }
  }

  private func waitForIndex(_ e2e: EndToEnd, at head: String) throws {
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline {
      // The lock file stays after a sync; status says whether a sync holds it.
      if let status = try? e2e.json("status"), status["sync_running"] as? Bool == false,
        status["last_indexed_commit"] as? String == head
      {
        return
      }
      Thread.sleep(forTimeInterval: 0.3)
    }
    Issue.record("the hook's sync did not reach \(head)")
  }

  private func allFiles(under folder: URL) -> [URL] {
    guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
    return walker.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
  }

  private func post(_ url: String, _ body: [String: Any]) throws -> Data {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = "POST"
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.httpBody = try JSONSerialization.data(withJSONObject: body)
    let box = ResultBox()
    let done = DispatchSemaphore(value: 0)
    URLSession.shared.dataTask(with: request) { data, _, _ in
      box.data = data ?? Data()
      done.signal()
    }.resume()
    done.wait()
    return box.data
  }
}

private final class ResultBox: @unchecked Sendable {
  // @unchecked: written once by the completion handler before the semaphore is signalled.
  var data = Data()
}

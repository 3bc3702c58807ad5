import Foundation
import GitRAGTestSupport
import Testing

@testable import Runtimes

/// AWS's Signature Version 4 test suite: the documented example credentials, date, region and service.
@Suite struct SignatureV4Tests {
  let signer = AWSSignatureV4(
    credentials: AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
    region: "us-east-1", service: "service")
  let date = Date(timeIntervalSince1970: 1_440_938_160)  // 20150830T123600Z

  @Test func getVanilla() {
    let signed = signer.sign(.init(method: "GET", url: URL(string: "https://example.amazonaws.com/")!), date: date)
    #expect(
      signed.canonicalRequest == """
        GET
        /

        host:example.amazonaws.com
        x-amz-date:20150830T123600Z

        host;x-amz-date
        e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
        """)
    #expect(
      signed.stringToSign == """
        AWS4-HMAC-SHA256
        20150830T123600Z
        20150830/us-east-1/service/aws4_request
        bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
        """)
    #expect(signed.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    #expect(
      signed.authorization
        == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )
    #expect(signed.headers["X-Amz-Date"] == "20150830T123600Z")
  }

  @Test func postXWWWFormURLEncoded() {
    let signed = signer.sign(
      .init(
        method: "POST", url: URL(string: "https://example.amazonaws.com/")!,
        headers: ["Content-Type": "application/x-www-form-urlencoded"], body: Data("Param1=value1".utf8)),
      date: date)
    #expect(
      signed.canonicalRequest == """
        POST
        /

        content-type:application/x-www-form-urlencoded
        host:example.amazonaws.com
        x-amz-date:20150830T123600Z

        content-type;host;x-amz-date
        9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e
        """)
    #expect(
      signed.stringToSign == """
        AWS4-HMAC-SHA256
        20150830T123600Z
        20150830/us-east-1/service/aws4_request
        42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281
        """)
    #expect(signed.signature == "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
  }

  @Test func getVanillaQueryOrderKeyCase() {
    let signed = signer.sign(
      .init(method: "GET", url: URL(string: "https://example.amazonaws.com/?Param2=value2&Param1=value1")!), date: date)
    #expect(signed.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "Param1=value1&Param2=value2")
    #expect(signed.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
  }

  @Test func sessionTokenAndPortAreSigned() {
    var withToken = signer
    withToken.credentials.sessionToken = "token-xyz"
    let signed = withToken.sign(.init(method: "POST", url: URL(string: "http://127.0.0.1:5000/v1/submitjob")!), date: date)
    #expect(signed.canonicalRequest.contains("host:127.0.0.1:5000\n"))
    #expect(signed.canonicalRequest.contains("x-amz-security-token:token-xyz\n"))
    #expect(signed.headers["X-Amz-Security-Token"] == "token-xyz")
    #expect(signed.authorization.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"))
  }
}

@Suite struct AWSConfigurationTests {
  @Test func credentialsFromEnvironmentThenSharedFile() throws {
    let home = try TemporaryDirectory(prefix: "git-rag-aws")
    try home.write(
      ".aws/credentials",
      """
      [default]
      aws_access_key_id = AKIDDEFAULT
      aws_secret_access_key = secretdefault

      [ci]
      aws_access_key_id=AKIDCI
      aws_secret_access_key=secretci
      aws_session_token=tokenci
      """)
    try home.write(".aws/config", "[profile ci]\nregion = eu-west-1\n[default]\nregion=us-west-2\n")
    #expect(
      try AWSCredentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s", "HOME": home.path])
        == AWSCredentials(accessKeyId: "AKIDENV", secretAccessKey: "s"))
    #expect(try AWSCredentials.resolve(environment: ["HOME": home.path]).accessKeyId == "AKIDDEFAULT")
    #expect(
      try AWSCredentials.resolve(environment: ["HOME": home.path, "AWS_PROFILE": "ci"])
        == AWSCredentials(accessKeyId: "AKIDCI", secretAccessKey: "secretci", sessionToken: "tokenci"))
    #expect(AWSCredentials.region(environment: ["HOME": home.path, "AWS_PROFILE": "ci"]) == "eu-west-1")
    #expect(AWSCredentials.region(environment: ["HOME": home.path]) == "us-west-2")
    #expect(AWSCredentials.region(environment: ["HOME": home.path, "AWS_DEFAULT_REGION": "ap-south-1"]) == "ap-south-1")
    let empty = try TemporaryDirectory()
    #expect(throws: JobError.self) { try AWSCredentials.resolve(environment: ["HOME": empty.path]) }
    #expect(AWSCredentials.region(environment: ["HOME": empty.path]) == nil)
  }

  @Test func goldenSubmitRequestWithoutSecrets() throws {
    let job = Job(
      operation: .sync, arguments: ["--store", "qdrant"], forwardEnvironment: ["API_TOKEN", "QDRANT_URL", "MODEL_NAME", "UNSET"],
      resources: JobResources(cpu: 2, memoryMiB: 4096), name: "git-rag-sync-test")
    let runtime = AWSBatchRuntime(
      configuration: .init(jobQueue: "queue", jobDefinition: "git-rag:3"),
      environment: ["AWS_REGION": "eu-central-1", "API_TOKEN": "api-secret-456", "QDRANT_URL": "https://q.example", "MODEL_NAME": "m"])
    let plan = try runtime.plan(job)
    #expect(
      plan
        == .request(
          method: "POST", url: "https://batch.eu-central-1.amazonaws.com/v1/submitjob",
          body:
            #"{"containerOverrides":{"command":["sync","--store","qdrant"],"environment":[{"name":"QDRANT_URL","value":"https://q.example"},{"name":"MODEL_NAME","value":"m"}],"resourceRequirements":[{"type":"VCPU","value":"2"},{"type":"MEMORY","value":"4096"}]},"jobDefinition":"git-rag:3","jobName":"git-rag-sync-test","jobQueue":"queue"}"#,
          notes: ["API_TOKEN is a secret and is not sent: the job definition must provide it (secrets: valueFrom Secrets Manager or SSM)."])
    )
    #expect(!plan.text.contains("api-secret-456"))

    var prefixed = runtime
    prefixed.configuration.commandPrefix = ["git-rag", "worker"]
    guard case .request(_, _, let body, _) = try prefixed.plan(job) else { return }
    #expect(body.contains(#""command":["git-rag","worker","sync","--store","qdrant"]"#))
  }

  @Test func missingRegionIsAClearError() throws {
    let runtime = AWSBatchRuntime(
      configuration: .init(jobQueue: "q", jobDefinition: "d"), environment: ["HOME": try TemporaryDirectory().path])
    #expect(
      throws: JobError.missingConfiguration("No AWS region: set AWS_REGION (e.g. AWS_REGION=us-east-1) or `region` in ~/.aws/config.")
    ) {
      try runtime.plan(Job(operation: .sync))
    }
  }
}

/// SubmitJob and DescribeJobs against moto in server mode, with IAM authentication on: moto
/// recomputes every request's Signature V4 with the key it issued and rejects a mismatch.
@Suite struct AWSBatchMotoTests {
  struct Setup: Decodable {
    let region, accessKeyId, secretAccessKey, jobQueue, jobDefinition: String
  }

  let server: TestServer
  let setup: Setup
  let folder: TemporaryDirectory

  init() throws {
    folder = try TemporaryDirectory(prefix: "git-rag-moto")
    let file = folder.url.appendingPathComponent("setup.json")
    server = try TestServer(script: "moto_server.py", arguments: ["--batch-setup", file.path], timeout: 120)
    setup = try JSONDecoder().decode(Setup.self, from: Data(contentsOf: file))
  }

  func environment(secret: String? = nil) -> [String: String] {
    [
      "HOME": folder.path, "AWS_ENDPOINT_URL": server.baseURL, "AWS_REGION": setup.region,
      "AWS_ACCESS_KEY_ID": setup.accessKeyId, "AWS_SECRET_ACCESS_KEY": secret ?? setup.secretAccessKey,
      "QDRANT_URL": "https://q.example", "API_TOKEN": "api-secret-456",
    ]
  }

  /// One server for all cases: moto takes seconds to start.
  @Test func submitDescribeAndErrors() async throws {
    try await submitWaitAndDescribe()
    try await wrongSecretIsRejectedWithAClearMessage()
    try await unknownQueueIsReported()
  }

  func submitWaitAndDescribe() async throws {
    let runtime = AWSBatchRuntime(
      configuration: .init(jobQueue: setup.jobQueue, jobDefinition: setup.jobDefinition, pollInterval: 0.2), environment: environment())
    let job = Job(
      operation: .sync, arguments: ["--store", "qdrant", "--collection", "docs"], forwardEnvironment: ["QDRANT_URL", "API_TOKEN"],
      resources: JobResources(cpu: 1, memoryMiB: 1024), name: "git-rag-sync-moto")

    let outcome = try await runtime.submit(job, wait: true)
    #expect(outcome.status == .succeeded)
    #expect(!outcome.id.isEmpty)

    let described = try await runtime.call("describejobs", body: try JSONSerialization.data(withJSONObject: ["jobs": [outcome.id]]))
    let detail = try #require((described["jobs"] as? [[String: Any]])?.first)
    #expect(detail["jobName"] as? String == "git-rag-sync-moto")
    let container = try #require(detail["container"] as? [String: Any])
    #expect(container["command"] as? [String] == ["sync", "--store", "qdrant", "--collection", "docs"])
    let env = (container["environment"] as? [[String: String]]) ?? []
    #expect(env.contains { $0["name"] == "QDRANT_URL" && $0["value"] == "https://q.example" })
    #expect(!env.contains { $0["name"] == "API_TOKEN" || $0["value"] == "api-secret-456" })

    let queued = try await runtime.submit(job, wait: false)
    #expect(queued.status == .submitted && queued.id != outcome.id)
  }

  func wrongSecretIsRejectedWithAClearMessage() async throws {
    let runtime = AWSBatchRuntime(
      configuration: .init(jobQueue: setup.jobQueue, jobDefinition: setup.jobDefinition), environment: environment(secret: "wrong"))
    do {
      _ = try await runtime.submit(Job(operation: .sync), wait: false)
      Issue.record("a request signed with the wrong secret was accepted")
    } catch let error as JobError {
      let message = error.errorDescription ?? ""
      #expect(message.contains("HTTP 403"), "\(message)")
      #expect(message.contains("AWS_ACCESS_KEY_ID"))
    }
  }

  func unknownQueueIsReported() async throws {
    let runtime = AWSBatchRuntime(
      configuration: .init(jobQueue: "no-such-queue", jobDefinition: setup.jobDefinition), environment: environment())
    await #expect(throws: JobError.self) { try await runtime.submit(Job(operation: .sync), wait: false) }
  }
}

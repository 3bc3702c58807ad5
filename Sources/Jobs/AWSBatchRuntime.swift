import Foundation
import GitRAGCore
import HTTPTransport

/// Runs a job on AWS Batch: `SubmitJob` over HTTPS, signed with Signature Version 4.
///
/// The job definition names the image (`git-rag worker` as its entrypoint), role and secrets.
/// The submission overrides only the container command (`<operation> <arguments…>`, after
/// `commandPrefix`), resources and the values of forwarded **non-secret** variables. Secret
/// variables (`Job.isSecret`: API_TOKEN, QDRANT_API_KEY, GITHUB_TOKEN, …) are never sent: give the
/// job definition a `secrets` entry for each (from Secrets Manager or SSM Parameter Store).
public struct AWSBatchRuntime: JobRuntime {
  public struct Configuration: Sendable, Hashable {
    public var jobQueue: String
    public var jobDefinition: String
    /// Put before `<operation>` in the container command: `[]` for the git-rag image (its
    /// entrypoint is `git-rag worker`), `["git-rag", "worker"]` for an image without one.
    public var commandPrefix: [String]
    /// Seconds between `DescribeJobs` calls while waiting.
    public var pollInterval: Double

    public init(jobQueue: String, jobDefinition: String, commandPrefix: [String] = [], pollInterval: Double = 10) {
      self.jobQueue = jobQueue
      self.jobDefinition = jobDefinition
      self.commandPrefix = commandPrefix
      self.pollInterval = pollInterval
    }
  }

  public var configuration: Configuration
  let environment: [String: String]

  /// Reads the region (`AWS_REGION`, `AWS_DEFAULT_REGION`, `~/.aws/config`), credentials and the
  /// endpoint override (`AWS_ENDPOINT_URL_BATCH`, `AWS_ENDPOINT_URL`) from `environment`.
  public init(configuration: Configuration, environment: [String: String] = ProcessInfo.processInfo.environment) {
    self.configuration = configuration
    self.environment = environment
  }

  func region() throws(JobError) -> String {
    guard let region = AWSCredentials.region(environment: environment) else {
      throw JobError.missingConfiguration("No AWS region: set AWS_REGION (e.g. AWS_REGION=us-east-1) or `region` in ~/.aws/config.")
    }
    return region
  }

  func endpoint() throws(JobError) -> String {
    for name in ["AWS_ENDPOINT_URL_BATCH", "AWS_ENDPOINT_URL"] {
      if let url = environment[name], !url.isEmpty {
        return url.hasSuffix("/") ? String(url.dropLast()) : url
      }
    }
    return "https://batch.\(try region()).amazonaws.com"
  }

  /// The `SubmitJob` body and notes on what was left out.
  func submitBody(for job: Job) throws -> (body: String, notes: [String]) {
    try job.refuseCredentialsInURLs(environment: environment)
    var overrides: [String: Any] = ["command": configuration.commandPrefix + [job.operation.rawValue] + job.arguments]
    var environmentOverrides: [[String: String]] = []
    var notes: [String] = []
    for name in job.forwardEnvironment {
      if Job.isSecret(name) {
        notes.append("\(name) is a secret and is not sent: the job definition must provide it (secrets: valueFrom Secrets Manager or SSM).")
      } else if let value = environment[name] {
        environmentOverrides.append(["name": name, "value": value])
      }
    }
    if !environmentOverrides.isEmpty { overrides["environment"] = environmentOverrides }
    var requirements: [[String: String]] = []
    if let cpu = job.resources.cpuDecimal { requirements.append(["type": "VCPU", "value": cpu]) }
    if let memory = job.resources.memoryMiB { requirements.append(["type": "MEMORY", "value": String(memory)]) }
    if !requirements.isEmpty { overrides["resourceRequirements"] = requirements }
    let body: [String: Any] = [
      "jobName": job.name, "jobQueue": configuration.jobQueue, "jobDefinition": configuration.jobDefinition,
      "containerOverrides": overrides,
    ]
    let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
    return (String(decoding: data, as: UTF8.self), notes)
  }

  public func plan(_ job: Job) throws -> JobSubmission {
    let (body, notes) = try submitBody(for: job)
    return .request(method: "POST", url: try endpoint() + "/v1/submitjob", body: body, notes: notes)
  }

  public func submit(_ job: Job, wait: Bool) async throws -> JobOutcome {
    guard !configuration.jobQueue.isEmpty, !configuration.jobDefinition.isEmpty else {
      throw JobError.missingConfiguration("AWS Batch needs a job queue and a job definition: pass --job-queue and --job-definition.")
    }
    let (body, _) = try submitBody(for: job)
    let submitted = try await call("submitjob", body: Data(body.utf8))
    guard let id = submitted["jobId"] as? String else {
      throw JobError.requestFailed("AWS Batch SubmitJob answered without a jobId: \(submitted)")
    }
    guard wait else { return JobOutcome(id: id, status: .submitted) }
    while true {
      let described = try await call("describejobs", body: try JSONSerialization.data(withJSONObject: ["jobs": [id]]))
      guard let detail = (described["jobs"] as? [[String: Any]])?.first, let status = detail["status"] as? String else {
        throw JobError.requestFailed("AWS Batch DescribeJobs does not know job \(id).")
      }
      let exitCode = ((detail["container"] as? [String: Any])?["exitCode"] as? NSNumber)?.int32Value
      switch status {
      case "SUCCEEDED":
        return JobOutcome(id: id, status: .succeeded, exitCode: exitCode)
      case "FAILED":
        let reason = detail["statusReason"] as? String ?? "no reason given"
        return JobOutcome(id: id, status: .failed(reason: reason), exitCode: exitCode)
      default:
        try await Task.sleep(nanoseconds: UInt64(configuration.pollInterval * 1_000_000_000))
      }
    }
  }

  /// POSTs a signed JSON request to `/v1/<action>` and returns the decoded JSON object.
  func call(_ action: String, body: Data) async throws -> [String: Any] {
    let base = try endpoint()
    guard let url = URL(string: "\(base)/v1/\(action)") else {
      throw JobError.missingConfiguration("Invalid AWS endpoint '\(base)': set AWS_ENDPOINT_URL to an https:// URL, or unset it.")
    }
    let signer = AWSSignatureV4(credentials: try AWSCredentials.resolve(environment: environment), region: try region(), service: "batch")
    let signed = signer.sign(.init(method: "POST", url: url, headers: ["Content-Type": "application/json"], body: body))
    var request = HTTPRequest(method: "POST", url: url, body: body, timeout: 60)
    for (name, value) in signed.headers { request.setHeader(name, value) }

    let response: HTTPResponse
    do {
      // One attempt: a SubmitJob whose answer was lost may have been accepted, and a retry would submit twice.
      response = try await HTTPClient().perform(request)
    } catch let failure as HTTPFailure {
      throw JobError.requestFailed(
        "Cannot reach AWS Batch at \(base) (\(failure.reason)). Check AWS_REGION, AWS_ENDPOINT_URL and your network.")
    }
    let (status, data) = (response.status, response.body)
    let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    guard (200..<300).contains(status) else {
      let reply = object["message"] as? String ?? object["Message"] as? String ?? String(decoding: data.prefix(300), as: UTF8.self)
      let message = Redaction.redact(reply, secrets: request.secrets)
      let hint =
        status == 403 || status == 401
        ? " Check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) and the IAM policy (batch:SubmitJob, batch:DescribeJobs)."
        : " Check --job-queue, --job-definition and AWS_REGION."
      throw JobError.requestFailed("AWS Batch \(action) failed with HTTP \(status): \(message).\(hint)")
    }
    return object
  }
}

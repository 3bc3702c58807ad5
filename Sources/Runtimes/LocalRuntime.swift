import Foundation

/// Runs a job on this machine: a child process `<git-rag> worker <operation> <arguments…>`.
public struct LocalRuntime: JobRuntime {
  /// The git-rag binary to run; defaults to the running program (`CommandLine.arguments[0]`).
  public var executable: String
  let tools: ToolProcess

  public init(executable: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
    self.executable = executable ?? CommandLine.arguments[0]
    tools = ToolProcess(environment: environment)
  }

  public func plan(_ job: Job) throws -> JobSubmission {
    try job.refuseCredentialsInURLs(environment: tools.environment)
    return .command(arguments: [try resolvedExecutable().path] + job.workerArguments)
  }

  public func submit(_ job: Job, wait: Bool) async throws -> JobOutcome {
    try job.refuseCredentialsInURLs(environment: tools.environment)
    let binary = try resolvedExecutable()
    if !wait {
      let pid = try tools.start(binary, job.workerArguments)
      return JobOutcome(id: String(pid), status: .submitted)
    }
    let result = try await tools.run(binary, job.workerArguments, capture: false)
    let status: JobOutcome.Status = result.status == 0 ? .succeeded : .failed(reason: "worker exited with status \(result.status)")
    return JobOutcome(id: job.name, status: status, exitCode: result.status)
  }

  private func resolvedExecutable() throws -> URL {
    if let url = tools.locate(executable) { return url }
    throw JobError.missingConfiguration(
      "Cannot run the worker: '\(executable)' is not an executable git-rag binary. Install git-rag on PATH or pass its path.")
  }
}

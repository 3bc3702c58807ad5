import Foundation

/// Runs a job in a container: `docker run --rm … <image> <operation> <arguments…>`.
///
/// The image's entrypoint is `git-rag worker` (see the Dockerfile). Environment variables are
/// forwarded by name only (`-e NAME`), so docker reads their values from its own environment and
/// no value ever appears on a command line. `~/.ssh` is mounted read-only only when an argument
/// is an SSH URL.
public struct DockerRuntime: JobRuntime {
  public struct Configuration: Sendable, Hashable {
    public var image: String
    /// `--network` (e.g. `host`); nil keeps docker's default bridge.
    public var network: String?
    /// Extra `-v` bind mounts, `source:target[:ro]`.
    public var volumes: [String]
    /// Where the image's user keeps its SSH folder.
    public var containerSSHDirectory: String

    public init(
      image: String = "git-rag:latest", network: String? = nil, volumes: [String] = [], containerSSHDirectory: String = "/home/git-rag/.ssh"
    ) {
      self.image = image
      self.network = network
      self.volumes = volumes
      self.containerSSHDirectory = containerSSHDirectory
    }
  }

  public var configuration: Configuration
  let tools: ToolProcess
  let home: String

  public init(configuration: Configuration = Configuration(), environment: [String: String] = ProcessInfo.processInfo.environment) {
    self.configuration = configuration
    tools = ToolProcess(environment: environment)
    home = environment["HOME"] ?? NSHomeDirectory()
  }

  /// The `docker` arguments (without the program itself); `detach` adds `-d`.
  func arguments(for job: Job, detach: Bool) -> [String] {
    var args = ["run", "--rm", "--name", job.name]
    if detach { args.append("-d") }
    if let network = configuration.network { args += ["--network", network] }
    if let cpus = job.resources.cpuDecimal { args += ["--cpus", cpus] }
    if let memory = job.resources.memoryMiB { args += ["--memory", "\(memory)m"] }
    for name in job.forwardEnvironment { args += ["-e", name] }
    if job.arguments.contains(where: Job.isSSHURL) {
      args += ["-v", "\(home)/.ssh:\(configuration.containerSSHDirectory):ro"]
    }
    for volume in configuration.volumes { args += ["-v", volume] }
    return args + [configuration.image, job.operation.rawValue] + job.arguments
  }

  public func plan(_ job: Job) throws -> JobSubmission {
    try job.refuseCredentialsInURLs(environment: tools.environment)
    return .command(arguments: ["docker"] + arguments(for: job, detach: false))
  }

  public func submit(_ job: Job, wait: Bool) async throws -> JobOutcome {
    try job.refuseCredentialsInURLs(environment: tools.environment)
    guard let docker = tools.locate("docker") else {
      throw JobError.toolNotFound(tool: "docker", hint: "Install Docker (https://docs.docker.com/get-docker/) or use --runtime local.")
    }
    let args = arguments(for: job, detach: !wait)
    let result = try await tools.run(docker, args, capture: !wait)
    if !wait {
      guard result.status == 0 else {
        throw JobError.toolFailed(command: "docker run", status: result.status, output: result.stderr + result.stdout)
      }
      return JobOutcome(id: result.stdout.trimmingCharacters(in: .whitespacesAndNewlines), status: .submitted)
    }
    // `docker run` exits with the worker's status, or 125-127 when docker itself failed.
    let status: JobOutcome.Status =
      switch result.status {
      case 0: .succeeded
      case 125...127:
        .failed(
          reason:
            "docker could not start the container (status \(result.status)). Check that the image \(configuration.image) exists and its registry is reachable: docker pull \(configuration.image)"
        )
      default: .failed(reason: "worker exited with status \(result.status)")
      }
    return JobOutcome(id: job.name, status: status, exitCode: result.status)
  }
}

import Foundation
import GitRAGTestSupport
import Testing

@testable import Runtimes

/// A job touching every feature: secret and plain variables, resources, an SSH URL.
private func sampleJob(url: String = "git@github.com:org/repo.git") throws -> Job {
  Job(
    operation: .uploadRepo, arguments: [url, "--store", "qdrant", "--collection", "docs"],
    forwardEnvironment: ["API_TOKEN", "QDRANT_API_KEY", "QDRANT_URL", "MODEL_NAME", "UNSET_VARIABLE"],
    resources: try JobResources(cpu: "500m", memory: "2Gi"), name: "git-rag-upload-repo-test")
}

private let submittingEnvironment = [
  "API_TOKEN": "api-secret-456", "QDRANT_API_KEY": "qdrant-secret-123", "QDRANT_URL": "https://qdrant.example:6333",
  "MODEL_NAME": "text-embedding-3-small",
]
private let secretValues = ["api-secret-456", "qdrant-secret-123"]

@Suite struct JobModelTests {
  @Test func resourceQuantities() throws {
    #expect(try JobResources(cpu: "500m", memory: "2Gi") == JobResources(cpu: 0.5, memoryMiB: 2048))
    #expect(try JobResources(cpu: "2", memory: "512Mi") == JobResources(cpu: 2, memoryMiB: 512))
    #expect(try JobResources(cpu: nil, memory: "1G").memoryMiB == 954)
    #expect(JobResources(cpu: 0.25).cpuQuantity == "250m")
    #expect(JobResources(cpu: 2).cpuQuantity == "2")
    #expect(throws: JobError.invalidResource("cpu", "lots")) { try JobResources(cpu: "lots", memory: nil) }
    #expect(throws: JobError.invalidResource("memory", "2XB")) { try JobResources(cpu: nil, memory: "2XB") }
  }

  @Test func secretsAndSSHURLs() {
    for name in ["API_TOKEN", "QDRANT_API_KEY", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD"] { #expect(Job.isSecret(name)) }
    for name in ["QDRANT_URL", "MODEL_NAME", "EMBEDDING_API_URL"] { #expect(!Job.isSecret(name)) }
    #expect(Job.isSSHURL("git@github.com:org/repo.git"))
    #expect(Job.isSSHURL("ssh://git@host:22/repo"))
    #expect(!Job.isSSHURL("https://github.com/org/repo"))
    #expect(!Job.isSSHURL("user@example.com"))
  }

  @Test func jobIsCodableAndNamed() throws {
    let job = try sampleJob()
    #expect(try JSONDecoder().decode(Job.self, from: JSONEncoder().encode(job)) == job)
    #expect(Job(operation: .sync).name.hasPrefix("git-rag-sync-"))
    #expect(job.workerArguments == ["worker", "upload-repo", "git@github.com:org/repo.git", "--store", "qdrant", "--collection", "docs"])
  }
}

@Suite struct LocalRuntimeTests {
  @Test func runsTheWorkerSubcommand() async throws {
    let tools = try FakeTools()
    try tools.add("git-rag", body: #"[ "$3" = fail ] && exit 3; exit 0"#)
    let runtime = LocalRuntime(executable: "git-rag", environment: tools.environment())
    let job = Job(operation: .sync, arguments: ["--store", "sqlite"], name: "local")
    #expect(try runtime.plan(job) == .command(arguments: [tools.bin.path + "/git-rag", "worker", "sync", "--store", "sqlite"]))
    #expect(try await runtime.submit(job, wait: true) == JobOutcome(id: "local", status: .succeeded, exitCode: 0))
    #expect(tools.calls("git-rag") == [["worker", "sync", "--store", "sqlite"]])
    let failing = Job(operation: .collection, arguments: ["fail"], name: "local")
    #expect(try await runtime.submit(failing, wait: true).status == .failed(reason: "worker exited with status 3"))
    let started = try await runtime.submit(job, wait: false)
    #expect(started.status == .submitted && Int(started.id) != nil)
    #expect(eventually { tools.calls("git-rag").count == 3 })
  }

  @Test func missingBinaryIsAClearError() async throws {
    let runtime = LocalRuntime(executable: "/nonexistent/git-rag")
    await #expect(throws: JobError.self) { try await runtime.submit(Job(operation: .sync), wait: true) }
  }
}

@Suite struct DockerRuntimeTests {
  @Test func goldenArguments() throws {
    let runtime = DockerRuntime(
      configuration: .init(image: "ghcr.io/org/git-rag:1.0", network: "host"), environment: ["HOME": "/home/me"])
    #expect(
      try runtime.plan(try sampleJob())
        == .command(arguments: [
          "docker", "run", "--rm", "--name", "git-rag-upload-repo-test", "--network", "host", "--cpus", "0.5", "--memory", "2048m",
          "-e", "API_TOKEN", "-e", "QDRANT_API_KEY", "-e", "QDRANT_URL", "-e", "MODEL_NAME", "-e", "UNSET_VARIABLE",
          "-v", "/home/me/.ssh:/home/git-rag/.ssh:ro",
          "ghcr.io/org/git-rag:1.0", "upload-repo", "git@github.com:org/repo.git", "--store", "qdrant", "--collection", "docs",
        ]))
    // No SSH URL, no ~/.ssh mount; defaults for image and network.
    let https = try DockerRuntime(environment: ["HOME": "/home/me"]).plan(try sampleJob(url: "https://github.com/org/repo"))
    guard case .command(let arguments) = https else { Issue.record("not a command"); return }
    #expect(!arguments.contains("-v") && !arguments.contains("--network"))
    #expect(arguments.contains("git-rag:latest"))
  }

  @Test func submitForwardsValuesThroughDockersEnvironmentOnly() async throws {
    let tools = try FakeTools()
    try tools.add("docker", body: #"for a in "$@"; do [ "$a" = -d ] && { echo 4f2a9c0d; exit 0; }; done; exit 0"#)
    let runtime = DockerRuntime(environment: tools.environment(submittingEnvironment))
    let job = try sampleJob()
    #expect(try await runtime.submit(job, wait: true) == JobOutcome(id: job.name, status: .succeeded, exitCode: 0))
    guard case .command(let planned) = try runtime.plan(job) else { return }
    #expect(tools.calls("docker") == [Array(planned.dropFirst())])
    let env = try #require(tools.environments("docker").first)
    #expect(env.contains("API_TOKEN=api-secret-456\n"), "docker reads -e NAME values from its own environment")
    for secret in secretValues { #expect(!tools.calls("docker").joined().contains { $0.contains(secret) }) }

    let detached = try await runtime.submit(job, wait: false)
    #expect(detached == JobOutcome(id: "4f2a9c0d", status: .submitted))
    #expect(tools.calls("docker").last?.contains("-d") == true)
  }

  @Test func workerFailureAndMissingDocker() async throws {
    let tools = try FakeTools()
    try tools.add("docker", body: "exit 4")
    let failed = try await DockerRuntime(environment: tools.environment()).submit(Job(operation: .sync), wait: true)
    #expect(failed.status == .failed(reason: "worker exited with status 4") && failed.exitCode == 4)
    // An image that cannot be pulled (unreachable registry): docker's own status 125.
    try tools.add("docker", body: "echo 'Unable to find image' >&2; exit 125")
    let unpulled = try await DockerRuntime(configuration: .init(image: "registry.invalid/git-rag:1"), environment: tools.environment())
      .submit(Job(operation: .sync), wait: true)
    #expect(
      unpulled.status
        == .failed(
          reason:
            "docker could not start the container (status 125). Check that the image registry.invalid/git-rag:1 exists and its registry is reachable: docker pull registry.invalid/git-rag:1"
        ))
    let missing = DockerRuntime(environment: ["PATH": try TemporaryDirectory().path])
    await #expect(
      throws: JobError.toolNotFound(tool: "docker", hint: "Install Docker (https://docs.docker.com/get-docker/) or use --runtime local.")
    ) {
      try await missing.submit(Job(operation: .sync), wait: true)
    }
  }
}

@Suite struct KubernetesRuntimeTests {
  let runtime = KubernetesRuntime(
    configuration: .init(
      image: "registry.example/git-rag:1.0", namespace: "rag", serviceAccountName: "git-rag-worker",
      imagePullSecrets: ["registry-creds"], secretName: "git-rag-secrets", backoffLimit: 1, ttlSecondsAfterFinished: 600),
    environment: submittingEnvironment)

  @Test func goldenManifest() throws {
    let manifest = try runtime.manifest(for: try sampleJob())
    #expect(
      manifest == """
        {
          "apiVersion" : "batch/v1",
          "kind" : "Job",
          "metadata" : {
            "labels" : {
              "app.kubernetes.io/component" : "worker",
              "app.kubernetes.io/name" : "git-rag",
              "git-rag/operation" : "upload-repo"
            },
            "name" : "git-rag-upload-repo-test",
            "namespace" : "rag"
          },
          "spec" : {
            "backoffLimit" : 1,
            "template" : {
              "metadata" : {
                "labels" : {
                  "app.kubernetes.io/component" : "worker",
                  "app.kubernetes.io/name" : "git-rag",
                  "git-rag/operation" : "upload-repo"
                }
              },
              "spec" : {
                "containers" : [
                  {
                    "args" : [
                      "upload-repo",
                      "git@github.com:org/repo.git",
                      "--store",
                      "qdrant",
                      "--collection",
                      "docs"
                    ],
                    "env" : [
                      {
                        "name" : "API_TOKEN",
                        "valueFrom" : {
                          "secretKeyRef" : {
                            "key" : "API_TOKEN",
                            "name" : "git-rag-secrets",
                            "optional" : true
                          }
                        }
                      },
                      {
                        "name" : "QDRANT_API_KEY",
                        "valueFrom" : {
                          "secretKeyRef" : {
                            "key" : "QDRANT_API_KEY",
                            "name" : "git-rag-secrets",
                            "optional" : true
                          }
                        }
                      },
                      {
                        "name" : "QDRANT_URL",
                        "value" : "https://qdrant.example:6333"
                      },
                      {
                        "name" : "MODEL_NAME",
                        "value" : "text-embedding-3-small"
                      }
                    ],
                    "image" : "registry.example/git-rag:1.0",
                    "name" : "git-rag",
                    "resources" : {
                      "limits" : {
                        "cpu" : "500m",
                        "memory" : "2048Mi"
                      },
                      "requests" : {
                        "cpu" : "500m",
                        "memory" : "2048Mi"
                      }
                    }
                  }
                ],
                "imagePullSecrets" : [
                  {
                    "name" : "registry-creds"
                  }
                ],
                "restartPolicy" : "Never",
                "serviceAccountName" : "git-rag-worker"
              }
            },
            "ttlSecondsAfterFinished" : 600
          }
        }

        """)
    for secret in secretValues { #expect(!manifest.contains(secret)) }
  }

  /// kubernetes-validate checks the manifests against the Job schema it ships (no cluster, no network).
  @Test func manifestsPassKubernetesValidateStrict() throws {
    let folder = try TemporaryDirectory(prefix: "git-rag-k8s")
    let minimal = KubernetesRuntime(environment: [:])
    for (index, text) in [
      try runtime.manifest(for: try sampleJob()), try minimal.manifest(for: Job(operation: .sync, name: "git-rag-sync-1")),
    ].enumerated() {
      let file = try folder.write("job\(index).json", text)
      let result = try runProcess(
        "python3", ["-m", "kubernetes_validate", "--strict", "--kubernetes-version", "1.30", file.path], check: false)
      #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }
    // And the validator does reject a broken Job, so the pass above means something.
    let broken = try folder.write(
      "broken.json",
      #"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"x"},"spec":{"backofLimit":1,"template":{"spec":{"containers":[]}}}}"#)
    #expect(try runProcess("python3", ["-m", "kubernetes_validate", "--strict", broken.path], check: false).status != 0)
  }

  @Test func submitAppliesOnStdinThenFollowsAndWaits() async throws {
    let tools = try FakeTools()
    try tools.add(
      "kubectl", body: #"[ "$1" = get ] && printf '%s' "${FAKE_CONDITIONS:-Complete}"; [ "$1" = logs ] && echo "worker log line"; exit 0"#)
    let job = try sampleJob()
    let waiting = KubernetesRuntime(configuration: runtime.configuration, environment: tools.environment(submittingEnvironment))
    #expect(try await waiting.submit(job, wait: true) == JobOutcome(id: job.name, status: .succeeded, exitCode: 0))
    #expect(
      tools.calls("kubectl") == [
        ["apply", "-f", "-"],
        ["logs", "-f", "-n", "rag", "--pod-running-timeout=5m", "job/git-rag-upload-repo-test"],
        ["get", "job", "git-rag-upload-repo-test", "-n", "rag", "-o", #"jsonpath={.status.conditions[?(@.status=="True")].type}"#],
      ])
    #expect(tools.stdins("kubectl").contains(try runtime.manifest(for: job)))

    var failingEnv = tools.environment(submittingEnvironment)
    failingEnv["FAKE_CONDITIONS"] = "FailureTarget Failed"
    let failing = KubernetesRuntime(configuration: runtime.configuration, environment: failingEnv)
    guard case .failed = try await failing.submit(job, wait: true).status else { Issue.record("expected failure"); return }
    #expect(try await failing.submit(job, wait: false) == JobOutcome(id: job.name, status: .submitted))
  }

  @Test func applyFailureAndMissingKubectl() async throws {
    let tools = try FakeTools()
    try tools.add("kubectl", body: #"echo 'error: You must be logged in to the server (Unauthorized)' >&2; exit 1"#)
    let failing = KubernetesRuntime(environment: tools.environment())
    await #expect(throws: JobError.self) { try await failing.submit(Job(operation: .sync), wait: false) }
    let missing = KubernetesRuntime(environment: ["PATH": try TemporaryDirectory().path])
    do {
      _ = try await missing.submit(Job(operation: .sync), wait: false)
      Issue.record("expected an error")
    } catch let error as JobError {
      #expect(error.errorDescription?.hasPrefix("`kubectl` was not found on PATH.") == true)
    }
  }
}

@Suite struct JobCredentialTests {
  private let password = "hunter2-" + String(UInt64.random(in: 1_000_000...9_999_999))

  private func runtimes(_ environment: [String: String]) -> [(String, any JobRuntime)] {
    var environment = environment
    environment["AWS_REGION"] = "eu-west-1"
    return [
      ("local", LocalRuntime(executable: "/bin/true", environment: environment)),
      ("docker", DockerRuntime(environment: environment)),
      ("kubernetes", KubernetesRuntime(environment: environment)),
      ("aws-batch", AWSBatchRuntime(configuration: .init(jobQueue: "q", jobDefinition: "d"), environment: environment)),
    ]
  }

  @Test func everyRuntimeRefusesAURLWithAPasswordInAForwardedVariable() throws {
    var environment = submittingEnvironment
    environment["QDRANT_URL"] = "https://admin:\(password)@qdrant.example:6333"
    for (name, runtime) in runtimes(environment) {
      do {
        let plan = try runtime.plan(try sampleJob())
        Issue.record("\(name) planned a job carrying the password: \(plan.text)")
      } catch let error as JobError {
        let message = error.errorDescription ?? ""
        #expect(message.contains("QDRANT_URL") && message.contains("QDRANT_API_KEY"), "\(name): \(message)")
        #expect(!message.contains(password) && !message.contains("\n"), "\(name): \(message)")
        #expect(error.exitCode == 2)
      }
    }
  }

  @Test func everyRuntimeRefusesAnArgumentWithCredentials() throws {
    for url in ["https://x-access-token:\(password)@github.com/org/repo.git", "https://\(password)@github.com/org/repo.git"] {
      for (name, runtime) in runtimes(submittingEnvironment) {
        #expect(throws: JobError.self, "\(name)") { try runtime.plan(try sampleJob(url: url)) }
      }
    }
  }

  @Test func urlsWithoutPasswordsPass() throws {
    for (name, runtime) in runtimes(submittingEnvironment) {
      let text = try runtime.plan(try sampleJob(url: "https://github.com/org/repo.git")).text
      #expect(!text.isEmpty, "\(name)")
      _ = try runtime.plan(try sampleJob(url: "ssh://git@host:22/repo"))
      _ = try runtime.plan(try sampleJob())
    }
    #expect(Job.hostWithCredentials(in: "see postgres://app:pw@db:5432/x") == "db:5432")
    #expect(Job.hostWithCredentials(in: "https://qdrant.example:6333") == nil)
    #expect(Job.hostWithCredentials(in: "user@example.com") == nil)
  }
}

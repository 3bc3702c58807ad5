import Foundation
import GitRAGCore
import GitRAGTestSupport
import Testing

@testable import Hooks

@Suite struct HookInstallerTests {
  let folder: TemporaryDirectory
  let installer: HookInstaller

  init() throws {
    folder = try TemporaryDirectory(prefix: "git-rag-hooks")
    installer = HookInstaller(hooksDirectory: folder.url.appendingPathComponent("hooks"))
  }

  func text(_ hook: String) throws -> String {
    try String(contentsOf: installer.path(hook), encoding: .utf8)
  }

  func mode(_ path: String) throws -> Int {
    try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! Int
  }

  func put(_ hook: String, _ contents: String, mode: Int = 0o755) throws {
    try FileManager.default.createDirectory(at: installer.hooksDirectory, withIntermediateDirectories: true)
    try ExecutableFile.write(Data(contents.utf8), to: installer.path(hook), mode: mode_t(mode))
  }

  @Test func installsIntoAMissingFolderThenIsIdempotent() throws {
    let first = try installer.install(force: false)
    #expect(first.map(\.hook) == ["post-checkout", "post-commit", "post-merge", "post-rewrite"])
    #expect(first.allSatisfy { $0.action == .installed })
    for (hook, script) in HookScripts.all {
      #expect(try text(hook) == script)
      #expect(try mode(installer.path(hook).path) == 0o755)
    }
    #expect(try installer.install(force: false).allSatisfy { $0.action == .unchanged })
    #expect(installer.status().allSatisfy { $0.state == .installed(version: HookScripts.version) && $0.isCurrent })
  }

  @Test func replacesAnOlderGitRagHook() throws {
    try put("post-commit", "#!/bin/sh\n# git-rag hook v0 (post-commit)\ngit-rag sync\n")
    #expect(installer.status().first { $0.hook == "post-commit" }?.state == .installed(version: 0))
    let results = try installer.install(force: false)
    #expect(results.first { $0.hook == "post-commit" }?.action == .updated)
    #expect(try text("post-commit") == HookScripts.all["post-commit"])
  }

  @Test func chainsIntoAForeignShellHookAndUnchainsByteIdentical() throws {
    let original = "#!/usr/bin/env bash\nset -e\necho \"user hook $1\"\nexit 3\n"
    try put("post-commit", original, mode: 0o700)
    let results = try installer.install(force: false)
    #expect(results.first { $0.hook == "post-commit" }?.action == .chained)
    let chained = try text("post-commit")
    #expect(chained.hasPrefix("#!/usr/bin/env bash\n# >>> git-rag >>>\n"))
    #expect(chained.hasSuffix("# <<< git-rag <<<\nset -e\necho \"user hook $1\"\nexit 3\n"))
    #expect(try mode(installer.path("post-commit").path) == 0o700)
    #expect(installer.status().first { $0.hook == "post-commit" }?.state == .chained(version: HookScripts.version))
    #expect(try installer.install(force: false).first { $0.hook == "post-commit" }?.action == .unchanged)

    // The chained hook still runs the user's part (and keeps its exit status) and starts the sync.
    let tools = try FakeTools()
    try tools.add("git-rag")
    let repo = try TemporaryGitRepository()
    let run = try runProcess(
      installer.path("post-commit").path, ["arg"], in: repo.url, environment: tools.environment(home: repo.home.path), check: false)
    #expect(run.status == 3)
    #expect(run.stdout == "user hook arg\n")
    #expect(eventually { tools.calls("git-rag") == [["sync", "--quiet", "--from-hook"]] })

    let removed = try installer.uninstall()
    #expect(removed.first { $0.hook == "post-commit" }?.action == .unchained)
    #expect(try text("post-commit") == original)
    #expect(try mode(installer.path("post-commit").path) == 0o700)
    #expect(removed.filter { $0.hook != "post-commit" }.allSatisfy { $0.action == .removed })
  }

  @Test func refusesANonShellHookAndSaysHowToProceed() throws {
    let original = "#!/usr/bin/env python3\nprint('mine')\n"
    try put("post-merge", original)
    let result = try installer.install(force: false).first { $0.hook == "post-merge" }!
    #expect(result.action == .refused(reason: "it is not a sh/bash script"))
    #expect(result.message.contains("--force"))
    #expect(result.message.contains("git-rag sync --quiet --from-hook"))
    #expect(try text("post-merge") == original)
    #expect(installer.status().first { $0.hook == "post-merge" }?.state == .foreign)
    #expect(try installer.uninstall().first { $0.hook == "post-merge" }?.action == .notInstalled)
    #expect(try text("post-merge") == original)
  }

  @Test func forceKeepsABackupThatUninstallRestores() throws {
    let original = "#!/usr/bin/env python3\nprint('mine')\n"
    try put("post-merge", original, mode: 0o750)
    let result = try installer.install(force: true).first { $0.hook == "post-merge" }!
    let backup = URL(fileURLWithPath: installer.path("post-merge").path + HookInstaller.backupSuffix)
    #expect(result.action == .replaced(backup: backup))
    #expect(try String(contentsOf: backup, encoding: .utf8) == original)
    #expect(try text("post-merge") == HookScripts.all["post-merge"])

    // A second forced install finds its own hook: nothing more to back up.
    #expect(try installer.install(force: true).first { $0.hook == "post-merge" }?.action == .unchanged)

    let removed = try installer.uninstall().first { $0.hook == "post-merge" }!
    #expect(removed.action == .restored(backup: backup))
    #expect(try text("post-merge") == original)
    #expect(try mode(installer.path("post-merge").path) == 0o750)
    #expect(!FileManager.default.fileExists(atPath: backup.path))
  }

  @Test func forceOnAChainedHookBacksUpTheUserPartOnly() throws {
    let original = "#!/bin/sh\necho mine\n"
    try put("post-rewrite", original)
    _ = try installer.install(force: false)
    _ = try installer.install(force: true)
    let backup = installer.path("post-rewrite").path + HookInstaller.backupSuffix
    #expect(try String(contentsOfFile: backup, encoding: .utf8) == original)
    #expect(try text("post-rewrite") == HookScripts.all["post-rewrite"])
  }

  @Test func uninstallLeavesForeignHooksAndReportsMissingOnes() throws {
    try put("post-checkout", "#!/bin/sh\necho mine\n")
    let results = try installer.uninstall()
    #expect(results.allSatisfy { $0.action == .notInstalled })
    #expect(try text("post-checkout") == "#!/bin/sh\necho mine\n")
    #expect(installer.status().map(\.state) == [.foreign, .missing, .missing, .missing])
  }

  @Test func shebangDetection() {
    #expect(HookInstaller.isShellScript(Data("#!/bin/sh\n".utf8)))
    #expect(HookInstaller.isShellScript(Data("#!/bin/bash -e\n".utf8)))
    #expect(HookInstaller.isShellScript(Data("#! /usr/bin/env -S bash\n".utf8)))
    #expect(HookInstaller.isShellScript(Data("#!/bin/dash".utf8)))
    #expect(!HookInstaller.isShellScript(Data("#!/usr/bin/env node\n".utf8)))
    #expect(!HookInstaller.isShellScript(Data("#!/usr/bin/python3\n".utf8)))
    #expect(!HookInstaller.isShellScript(Data("echo no shebang\n".utf8)))
  }

  @Test func unwritableFolderGivesAClearError() throws {
    guard getuid() != 0 else { return }  // root writes anywhere; nothing to check
    try FileManager.default.createDirectory(at: installer.hooksDirectory, withIntermediateDirectories: true)
    try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: installer.hooksDirectory.path)
    defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: installer.hooksDirectory.path) }
    #expect(throws: HookInstallerError.self) { try installer.install(force: false) }
  }

  // MARK: - Hardening: set -eu hooks, links, bytes, modes

  @Test func chainedBlockRunsUnderSetEuAndPipefail() throws {
    let original = "#!/bin/bash -eu\nset -o pipefail\necho \"user hook ${1:-none}\"\n"
    try put("post-commit", original, mode: 0o700)
    try put("post-checkout", original, mode: 0o700)
    _ = try installer.install(force: false)
    let tools = try FakeTools()
    try tools.add("git-rag")
    let repo = try TemporaryGitRepository()
    let env = tools.environment(home: repo.home.path)  // GIT_RAG_SKIP_HOOKS unset
    let run = try runProcess(installer.path("post-commit").path, [], in: repo.url, environment: env, check: false)
    #expect(run.status == 0, "stderr: \(run.stderr)")
    #expect(run.stdout == "user hook none\n")
    #expect(!run.stderr.contains("unbound variable"))
    #expect(eventually { tools.calls("git-rag") == [["sync", "--quiet", "--from-hook"]] })
    // post-checkout reads $3; called with none it must neither fail nor sync.
    let checkout = try runProcess(installer.path("post-checkout").path, [], in: repo.url, environment: env, check: false)
    #expect(checkout.status == 0, "stderr: \(checkout.stderr)")
    #expect(checkout.stdout == "user hook none\n")
    // git-rag missing from PATH: the user's hook still runs to the end under -e.
    var noBinary = env
    noBinary["PATH"] = "/usr/bin:/bin"
    let missing = try runProcess(installer.path("post-commit").path, ["x"], in: repo.url, environment: noBinary, check: false)
    #expect(missing.status == 0)
    #expect(missing.stdout == "user hook x\n")
  }

  @Test func symlinkedHookIsLeftAsALinkAndForceMovesTheLinkAside() throws {
    let scripts = folder.url.appendingPathComponent("scripts")
    try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)
    let target = scripts.appendingPathComponent("pc.sh")
    let original = Data("#!/bin/sh\necho tracked script\n".utf8)
    try ExecutableFile.write(original, to: target, mode: 0o755)
    try FileManager.default.createDirectory(at: installer.hooksDirectory, withIntermediateDirectories: true)
    let link = installer.path("post-checkout")
    try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "../scripts/pc.sh")

    let result = try installer.install(force: false).first { $0.hook == "post-checkout" }!
    guard case .refused(let reason) = result.action else { Issue.record("expected a refusal, got \(result.action)"); return }
    #expect(reason.contains("symbolic link to ../scripts/pc.sh"))
    #expect(result.message.contains("git-rag sync --quiet --from-hook"))
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "../scripts/pc.sh")
    #expect(try Data(contentsOf: target) == original)
    #expect(try mode(target.path) == 0o755)
    #expect(try installer.uninstall().first { $0.hook == "post-checkout" }?.action == .notInstalled)
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "../scripts/pc.sh")

    // --force keeps the link itself as the backup, and uninstall puts the link back.
    _ = try installer.install(force: true)
    let backup = link.path + HookInstaller.backupSuffix
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: backup) == "../scripts/pc.sh")
    #expect(try text("post-checkout") == HookScripts.all["post-checkout"])
    #expect(try Data(contentsOf: target) == original)
    _ = try installer.uninstall()
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "../scripts/pc.sh")
    #expect(!FileManager.default.fileExists(atPath: backup))
    #expect(try Data(contentsOf: target) == original)
  }

  @Test func nonUTF8BytesAndModesComeBackExactly() throws {
    // Latin-1 é, an invalid UTF-8 sequence, CRLF line ends and no final newline.
    var original = Data("#!/bin/sh\n# caf".utf8) + Data([0xE9]) + Data("\r\necho ".utf8) + Data([0xFF, 0xFE, 0x80])
    original += Data("\r\nexit 0".utf8)
    for (hook, fileMode) in [("post-commit", 0o700), ("post-merge", 0o644), ("post-rewrite", 0o4750)] {
      try FileManager.default.createDirectory(at: installer.hooksDirectory, withIntermediateDirectories: true)
      try ExecutableFile.write(original, to: installer.path(hook), mode: mode_t(fileMode))
    }
    let results = try installer.install(force: false)
    #expect(results.filter { $0.action == .chained }.count == 3)
    for (hook, fileMode) in [("post-commit", 0o700), ("post-merge", 0o644), ("post-rewrite", 0o4750)] {
      let chained = try Data(contentsOf: installer.path(hook))
      #expect(chained.range(of: Data([0xFF, 0xFE, 0x80])) != nil)
      #expect(try mode(installer.path(hook).path) == fileMode, "\(hook) changed mode")
    }
    _ = try installer.uninstall()
    for (hook, fileMode) in [("post-commit", 0o700), ("post-merge", 0o644), ("post-rewrite", 0o4750)] {
      #expect(try Data(contentsOf: installer.path(hook)) == original, "\(hook) is not byte-identical")
      #expect(try mode(installer.path(hook).path) == fileMode)
    }
  }
}

import GitRAGCLI
import GitRAGCore

#if canImport(Glibc)
  import Glibc
#endif

// A sync started by a git hook runs detached; it must not keep the descriptors of whoever ran
// git (pipes a caller waits on would otherwise stay open until the sync ends). Before any thread
// starts, so that no descriptor of ours is closed under it.
if CommandLine.arguments.contains("--from-hook") {
  for fd in Int32(3)..<Int32(1024) { close(fd) }
}

GitRAGCommand.prepareProcess()

let status = await GitRAGCommand.runMain()
Trace.mark("exit")
exit(status)

import GitRAGCLI
import GitRAGCore

#if canImport(Glibc)
  import Glibc
#endif

GitRAGCommand.prepareProcess()

// A sync started by a git hook runs detached; it must not keep the descriptors of whoever ran
// git (pipes a caller waits on would otherwise stay open until the sync ends).
if CommandLine.arguments.contains("--from-hook") {
  for fd in Int32(3)..<Int32(1024) { close(fd) }
}

let status = await GitRAGCommand.runMain()
Trace.mark("exit")
exit(status)

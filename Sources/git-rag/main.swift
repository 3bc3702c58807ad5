import GitRAGCLI

#if canImport(Glibc)
  import Glibc
#endif

exit(await GitRAGCommand.runMain())

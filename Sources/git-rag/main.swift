import GitRAGCLI

await GitRAGCommand.main()

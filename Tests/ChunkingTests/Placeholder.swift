import Testing

@Test func ChunkingTestsBuild() { #expect(Bool(true)) }

import Testing

@Test func EmbeddingTestsBuild() { #expect(Bool(true)) }

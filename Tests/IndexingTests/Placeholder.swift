import Testing

@Test func IndexingTestsBuild() { #expect(Bool(true)) }

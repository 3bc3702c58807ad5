import Testing

@Test func JobsTestsBuild() { #expect(Bool(true)) }

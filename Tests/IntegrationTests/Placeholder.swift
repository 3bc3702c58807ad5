import Testing

@Test func IntegrationTestsBuild() { #expect(Bool(true)) }

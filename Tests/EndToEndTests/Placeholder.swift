import Testing

@Test func EndToEndTestsBuild() { #expect(Bool(true)) }

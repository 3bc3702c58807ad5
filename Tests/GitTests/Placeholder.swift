import Testing

@Test func GitTestsBuild() { #expect(Bool(true)) }

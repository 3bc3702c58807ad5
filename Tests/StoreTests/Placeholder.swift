import Testing

@Test func StoreTestsBuild() { #expect(Bool(true)) }

public enum GitRAGVersion {
  public static let current = "0.1.0"
}

import Foundation

extension CITemplates {
  /// `contents`, the template of `provider`, extended to publish the index after its sync:
  /// `git rag push --replace` to `refs/rag/<collection>` on the repository's own remote
  /// (`git rag ci init --publish-index`).
  ///
  /// GitHub: the job's `GITHUB_TOKEN` with `contents: write`. GitLab: the job token cannot push,
  /// so a project access token (role Developer, scope `write_repository`) in the CI/CD variable
  /// `GIT_RAG_PUSH_TOKEN`.
  public static func publishingIndex(_ contents: String, provider: String) throws(CITemplateError) -> String {
    switch provider.lowercased() {
    case "github":
      let permissions = contents.replacingOccurrences(
        of: "permissions:\n  contents: read\n",
        with:
          "permissions:\n  # git rag push publishes the index's vectors to refs/rag/<collection> of this repository.\n  contents: write\n")
      return permissions + githubPublishStep
    case "gitlab":
      return contents + gitlabPublishLine
    default:
      throw CITemplateError.unknownProvider(provider)
    }
  }

  /// What the user still has to do for `provider`'s publishing pipeline.
  public static func publishingInstructions(provider: String) -> String {
    provider.lowercased() == "gitlab"
      ? "To publish refs/rag: create a project access token (role Developer, scope write_repository) and set it as the masked CI/CD variable GIT_RAG_PUSH_TOKEN."
      : "The workflow publishes refs/rag with its GITHUB_TOKEN (permissions: contents: write); clones run git rag pull to use it."
  }

  // A step after the sync step, the last of the job.
  static let githubPublishStep = #"""
          - name: Publish the index under refs/rag (clones run git rag pull)
            env:
              GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}
              QDRANT_URL: ${{ secrets.QDRANT_URL }}
              QDRANT_API_KEY: ${{ secrets.QDRANT_API_KEY }}
              GIT_RAG_COLLECTION: ${{ vars.GIT_RAG_COLLECTION }}
            run: git rag push --replace --store qdrant ${GIT_RAG_COLLECTION:+--collection "$GIT_RAG_COLLECTION"} "$GITHUB_SERVER_URL/$GITHUB_REPOSITORY.git"

    """#

  // One more line of the job's script.
  static let gitlabPublishLine = #"""
        # Publish the index under refs/rag (clones run git rag pull): needs GIT_RAG_PUSH_TOKEN.
        - GIT_RAG_TOKEN="$GIT_RAG_PUSH_TOKEN" git rag push --replace --store qdrant ${GIT_RAG_COLLECTION:+--collection "$GIT_RAG_COLLECTION"} "$CI_SERVER_URL/$CI_PROJECT_PATH.git"

    """#
}

import Foundation
import GitRAGCore

/// CI pipelines that sync the index on every push, byte for byte the files in `ci-templates/`.
public enum CITemplates {
  /// The providers `git rag ci init` knows.
  public static let providers = ["github", "gitlab"]

  /// The template for `provider` (`github` or `gitlab`): where it goes in a repository, and its text.
  public static func template(for provider: String) throws(CITemplateError) -> (path: String, contents: String) {
    switch provider.lowercased() {
    case "github": (".github/workflows/git-rag.yml", github)
    case "gitlab": (".gitlab/git-rag.gitlab-ci.yml", gitlab)
    default: throw CITemplateError.unknownProvider(provider)
    }
  }

  /// The template's file in this repository's `ci-templates/` folder.
  public static func sourcePath(for provider: String) throws(CITemplateError) -> String {
    switch provider.lowercased() {
    case "github": "ci-templates/github/git-rag.yml"
    case "gitlab": "ci-templates/gitlab/git-rag.gitlab-ci.yml"
    default: throw CITemplateError.unknownProvider(provider)
    }
  }

  static let github = #"""
    # git-rag: keep a Qdrant index of this repository fresh on every push to the default branch.
    # Written by `git rag ci init github`. Set these repository secrets (Settings > Secrets and
    # variables > Actions): QDRANT_URL, QDRANT_API_KEY, and API_TOKEN when the embedder is an
    # OpenAI-compatible API. Optional repository variables: GIT_RAG_COLLECTION, MODEL_NAME,
    # EMBEDDING_API_URL, GIT_RAG_VERSION (a git-rag tag or branch), GIT_RAG_REPOSITORY.
    name: git-rag

    on:
      push:
      workflow_dispatch:

    # One index update per branch at a time; a newer push waits instead of cancelling a sync midway.
    concurrency:
      group: git-rag-${{ github.ref }}
      cancel-in-progress: false

    permissions:
      contents: read

    jobs:
      sync:
        # Only the default branch feeds the shared index (and any manual run).
        if: github.event_name == 'workflow_dispatch' || github.ref_name == github.event.repository.default_branch
        runs-on: ubuntu-latest
        container: swift:6.3-bookworm
        timeout-minutes: 60
        env:
          GIT_RAG_VERSION: ${{ vars.GIT_RAG_VERSION || 'main' }}
          GIT_RAG_REPOSITORY: ${{ vars.GIT_RAG_REPOSITORY || 'https://github.com/git-rag/git-rag' }}
        steps:
          # The default shallow fetch is enough: when the last indexed commit is not in the clone,
          # git-rag reconciles the index against HEAD's tree instead of diffing.
          - uses: actions/checkout@v4

          - name: Install system libraries
            run: |
              apt-get update -qq
              DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                git ca-certificates libgit2-dev libarchive-dev libopenblas-dev libssl-dev \
                libsqlite3-dev libcurl4-openssl-dev >/dev/null
              # The checkout belongs to another user inside the container.
              git config --global --add safe.directory "$GITHUB_WORKSPACE"

          - name: Cache the git-rag build
            id: cache
            uses: actions/cache@v4
            with:
              path: /opt/git-rag
              key: git-rag-${{ runner.os }}-${{ env.GIT_RAG_VERSION }}

          - name: Build git-rag
            if: steps.cache.outputs.cache-hit != 'true'
            run: |
              git clone --quiet --depth 1 --branch "$GIT_RAG_VERSION" "$GIT_RAG_REPOSITORY" /tmp/git-rag-src
              swift build -c release --package-path /tmp/git-rag-src --product git-rag
              mkdir -p /opt/git-rag/bin
              install -m 0755 "$(swift build -c release --package-path /tmp/git-rag-src --show-bin-path)/git-rag" /opt/git-rag/bin/git-rag

          - name: Put git-rag on PATH
            run: echo /opt/git-rag/bin >> "$GITHUB_PATH"

          - name: Sync the index
            env:
              QDRANT_URL: ${{ secrets.QDRANT_URL }}
              QDRANT_API_KEY: ${{ secrets.QDRANT_API_KEY }}
              API_TOKEN: ${{ secrets.API_TOKEN }}
              MODEL_NAME: ${{ vars.MODEL_NAME }}
              EMBEDDING_API_URL: ${{ vars.EMBEDDING_API_URL }}
              GIT_RAG_COLLECTION: ${{ vars.GIT_RAG_COLLECTION }}
            run: git rag sync --store qdrant ${GIT_RAG_COLLECTION:+--collection "$GIT_RAG_COLLECTION"}

    """#

  static let gitlab = #"""
    # git-rag: keep a Qdrant index of this repository fresh on every push to the default branch.
    # Written by `git rag ci init gitlab`; include it from .gitlab-ci.yml:
    #   include:
    #     - local: .gitlab/git-rag.gitlab-ci.yml
    # Set these CI/CD variables (Settings > CI/CD > Variables, masked): QDRANT_URL, QDRANT_API_KEY,
    # and API_TOKEN when the embedder is an OpenAI-compatible API. They reach the job as environment
    # variables, never on a command line. Optional: GIT_RAG_COLLECTION, MODEL_NAME, EMBEDDING_API_URL,
    # GIT_RAG_VERSION (a git-rag tag or branch), GIT_RAG_REPOSITORY.
    git-rag:
      image: swift:6.3-bookworm
      # One index update at a time; a newer pipeline waits instead of cancelling a sync midway.
      resource_group: git-rag
      rules:
        - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
        - if: $CI_PIPELINE_SOURCE == "web"
      variables:
        GIT_RAG_VERSION: main
        GIT_RAG_REPOSITORY: https://github.com/git-rag/git-rag
      cache:
        key: git-rag-$GIT_RAG_VERSION
        paths:
          - .git-rag-bin/
      before_script:
        - apt-get update -qq
        - >-
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends
          git ca-certificates libgit2-dev libarchive-dev libopenblas-dev libssl-dev
          libsqlite3-dev libcurl4-openssl-dev >/dev/null
        - |
          if [ ! -x .git-rag-bin/git-rag ]; then
            git clone --quiet --depth 1 --branch "$GIT_RAG_VERSION" "$GIT_RAG_REPOSITORY" /tmp/git-rag-src
            swift build -c release --package-path /tmp/git-rag-src --product git-rag
            mkdir -p .git-rag-bin
            install -m 0755 "$(swift build -c release --package-path /tmp/git-rag-src --show-bin-path)/git-rag" .git-rag-bin/git-rag
          fi
        - export PATH="$PWD/.git-rag-bin:$PATH"
      # GitLab's default shallow clone is enough: git-rag reconciles against HEAD's tree when the
      # last indexed commit is not in the clone.
      script:
        - git rag sync --store qdrant ${GIT_RAG_COLLECTION:+--collection "$GIT_RAG_COLLECTION"}

    """#
}

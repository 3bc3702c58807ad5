/// What finding a secret does to its file.
public enum SecretEffect: Sendable, Hashable {
  /// The value is replaced by `«redacted:<rule id>»` and the rest of the file is indexed.
  case redact
  /// The file is key material or a credentials store: nothing of it is indexed.
  case skipFile
}

/// One content rule: where a secret value is, as data.
///
/// The scanner looks for the `keywords` in one pass over the bytes and runs `pattern` only on
/// the lines holding one (plus `linesAfter` more), so a rule costs nothing on files that cannot
/// match. Capture group 1, when the pattern has one, is the secret value; otherwise the match.
public struct SecretRule: Sendable, Hashable {
  /// Stable name used in markers, skip reasons and allow-lists, e.g. `stripe-live-key`.
  public let id: String
  public let description: String
  /// Lowercase literals; the pattern runs only on lines containing one (case-insensitively).
  public let keywords: [String]
  /// An ICU regular expression.
  public let pattern: String
  /// Minimum Shannon entropy of the value, in bits per character; 0 accepts any value.
  public let entropy: Double
  public var effect: SecretEffect = .redact
  /// Lowercase literals that must all occur somewhere in the file (a Docker config's `"auths"`).
  public var fileKeywords: [String] = []
  /// Lines after the keyword's line that the pattern may span (a key's header and its body).
  public var linesAfter = 0
  /// Values matching this are placeholders (AWS documentation's `…EXAMPLE` keys), not secrets.
  public var placeholder: String? = nil
  /// The value must contain a letter and a digit (random tokens do, identifiers rarely).
  public var needsLetterAndDigit = false
  /// Lines without an assignment (`=` or `:`) followed by this many value characters (with a
  /// digit when `needsLetterAndDigit`) are passed over without running the pattern.
  public var minimumValueLength = 0
  /// A literal the line must also hold for the pattern to run (`@` for a URL's user part).
  public var lineMustContain: String? = nil
  /// Where the rule looks: lines around its keywords, or a Kubernetes Secret's `data` block.
  public var context: SecretContext = .lines
}

/// Where a content rule looks for values.
public enum SecretContext: Sendable, Hashable {
  /// On the lines holding one of the rule's keywords.
  case lines
  /// Every value under `data:` / `stringData:` of a file whose `pattern` (`kind: Secret`) matches.
  case kubernetesSecretData
}

/// A file-name rule: files that are secrets by name are skipped whole.
public struct SecretNameRule: Sendable, Hashable {
  public let id: String
  public let description: String
  /// Lowercase file-name globs (`*` matches any run of characters, `/` included for `dir/name`).
  public let names: [String]
  /// Names that match but are templates meant to be committed; their content is still scanned.
  public var except: [String] = []
  /// Skipped only when the content holds credentials (a `password`, `_auth` or token line).
  public var onlyWithCredentials = false
}

/// Every secret rule git-rag applies, in one place. The families follow the default sets of
/// dedicated scanners (gitleaks, trufflehog): cloud keys, source hosts, chat and payments, AI
/// APIs, package registries, key material, JWTs, URLs with passwords, Docker `auths`,
/// Kubernetes Secrets, Terraform state, and a generic high-entropy assignment rule.
public enum SecretRules {
  /// Changes whenever a rule changes, so that collections are re-chunked under the new rules.
  public static let version = "secrets-2"

  /// Characters that may not touch a token on its left (so `xghp_…` is not a GitHub token).
  private static let left = "(?<![A-Za-z0-9_])"
  /// … and on its right.
  private static let right = "(?![A-Za-z0-9_])"
  /// An assignment between a name and a value: `=`, `:`, `:=`, `=>`, quotes and spaces around.
  private static let assign = #"["']?\s*(?:=>|:=|[:=](?!=))\s*["'`]?"#

  public static let content: [SecretRule] = [
    // MARK: Key material
    SecretRule(
      id: "private-key", description: "private key",
      keywords: ["private key", "putty-user-key-file-"],
      pattern:
        #"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:\s|\\[nr])*(?:Proc-Type:|[A-Za-z0-9+/=]{40})|PuTTY-User-Key-File-\d: "#,
      entropy: 0, effect: .skipFile, linesAfter: 2),
    SecretRule(
      id: "terraform-state", description: "Terraform state",
      keywords: ["\"lineage\""], pattern: #""lineage"\s*:\s*"[0-9a-f-]{36}""#, entropy: 0, effect: .skipFile,
      fileKeywords: ["\"terraform_version\"", "\"resources\""]),

    // MARK: Cloud
    SecretRule(
      id: "aws-access-key-id", description: "AWS access key id",
      keywords: ["akia", "asia", "abia", "acca", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "a3t"],
      pattern: "(?<![A-Za-z0-9])((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|A3T[A-Z0-9])[A-Z0-9]{16})(?![A-Za-z0-9])",
      entropy: 3.0, placeholder: "EXAMPLE$"),
    SecretRule(
      id: "aws-secret-access-key", description: "AWS secret access key",
      keywords: ["secret_access_key", "secretaccesskey", "secret-access-key", "aws_secret", "aws-secret", "awssecret"],
      pattern: #"(?i)(?:secret_?-?access_?-?key|aws_?-?secret\w*)\#(assign)([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"#,
      entropy: 4.0, placeholder: "EXAMPLE"),
    SecretRule(
      id: "gcp-api-key", description: "Google API key",
      keywords: ["aiza"], pattern: "\(left)(AIza[0-9A-Za-z_-]{35})\(right)", entropy: 3.5),
    SecretRule(
      id: "gcp-service-account-key-id", description: "Google service-account private key id",
      keywords: ["\"private_key_id\""], pattern: #""private_key_id"\s*:\s*"([0-9a-f]{40})""#, entropy: 3.0),
    SecretRule(
      id: "gcp-oauth-client-secret", description: "Google OAuth client secret",
      keywords: ["gocspx-"], pattern: "\(left)(GOCSPX-[A-Za-z0-9_-]{28})\(right)", entropy: 3.5),
    SecretRule(
      id: "azure-storage-key", description: "Azure storage account key",
      keywords: ["accountkey"], pattern: #"(?i)AccountKey\s*=\s*([A-Za-z0-9+/]{80,90}={0,2})"#, entropy: 4.0),
    SecretRule(
      id: "azure-shared-access-key", description: "Azure shared access key or SAS signature",
      keywords: ["sharedaccesskey", "sig="],
      pattern: #"(?i)(?:SharedAccessKey=|[?&;]sig=)([A-Za-z0-9+/%]{40,}(?:={0,2}|(?:%3D){0,2}))"#, entropy: 3.5),
    SecretRule(
      id: "azure-ad-client-secret", description: "Azure AD client secret",
      keywords: ["q~"], pattern: #"(?<![A-Za-z0-9_~.-])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])"#,
      entropy: 3.5),

    // MARK: Source hosts
    SecretRule(
      id: "github-token", description: "GitHub token",
      keywords: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], pattern: "\(left)(gh[pousr]_[A-Za-z0-9]{30,255})\(right)", entropy: 3.0),
    SecretRule(
      id: "github-fine-grained-token", description: "GitHub fine-grained token",
      keywords: ["github_pat_"], pattern: "\(left)(github_pat_[A-Za-z0-9_]{22,255})\(right)", entropy: 3.0),
    SecretRule(
      id: "gitlab-token", description: "GitLab token",
      keywords: ["glpat-", "gldt-", "glrt-", "glptt-", "glft-", "glsoat-"],
      pattern: #"(?<![A-Za-z0-9_-])((?:glpat|gldt|glrt|glptt|glft|glsoat)-[A-Za-z0-9_-]{20,})"#, entropy: 3.0),
    SecretRule(
      id: "bitbucket-app-password", description: "Bitbucket app password",
      keywords: ["atbb"], pattern: "\(left)(ATBB[A-Za-z0-9_=.-]{28,})\(right)", entropy: 3.0),
    SecretRule(
      id: "atlassian-api-token", description: "Atlassian (Bitbucket, Jira) API token",
      keywords: ["atatt3"], pattern: "\(left)(ATATT3[A-Za-z0-9_=-]{100,})", entropy: 3.0),

    // MARK: Chat and payments
    SecretRule(
      id: "slack-token", description: "Slack token",
      keywords: ["xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-", "xoxe-", "xoxo-", "xapp-"],
      pattern: "\(left)((?:xox[abprseo]|xapp)-[0-9A-Za-z-]{10,})", entropy: 2.5),
    SecretRule(
      id: "slack-webhook", description: "Slack webhook URL",
      keywords: ["hooks.slack.com"], pattern: #"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9+/_-]{20,})"#,
      entropy: 3.0),
    SecretRule(
      id: "stripe-live-key", description: "Stripe live key",
      keywords: ["sk_live_", "rk_live_"], pattern: "\(left)((?:sk|rk)_live_[0-9A-Za-z]{20,})", entropy: 3.0),
    SecretRule(
      id: "stripe-test-key", description: "Stripe test key",
      keywords: ["sk_test_", "rk_test_"], pattern: "\(left)((?:sk|rk)_test_[0-9A-Za-z]{20,})", entropy: 3.0),
    SecretRule(
      id: "twilio-api-key", description: "Twilio API key",
      keywords: ["twilio"], pattern: #"(?<![A-Za-z0-9])(SK[0-9a-fA-F]{32})(?![A-Za-z0-9])"#, entropy: 3.0),
    SecretRule(
      id: "twilio-auth-token", description: "Twilio auth token",
      keywords: ["twilio"], pattern: #"(?i)twilio\w*(?:token|secret)\#(assign)([0-9a-f]{32})(?![0-9a-f])"#, entropy: 3.0),
    SecretRule(
      id: "sendgrid-api-key", description: "SendGrid API key",
      keywords: ["sg."], pattern: "\(left)(SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43})\(right)", entropy: 3.5),

    // MARK: AI APIs
    SecretRule(
      id: "anthropic-api-key", description: "Anthropic API key",
      keywords: ["sk-ant-"], pattern: #"(?<![A-Za-z0-9_-])(sk-ant-[A-Za-z0-9_-]{32,})"#, entropy: 3.5),
    SecretRule(
      id: "openai-api-key", description: "OpenAI API key",
      keywords: ["sk-"],
      pattern:
        #"(?<![A-Za-z0-9_-])(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|sk-[A-Za-z0-9]{48})(?![A-Za-z0-9_-])"#,
      entropy: 3.5),
    SecretRule(
      id: "huggingface-token", description: "Hugging Face token",
      keywords: ["hf_", "api_org_"], pattern: "\(left)((?:hf|api_org)_[A-Za-z0-9]{34,40})\(right)", entropy: 3.5,
      needsLetterAndDigit: false),

    // MARK: Package registries
    SecretRule(
      id: "npm-token", description: "npm token", keywords: ["npm_"], pattern: "\(left)(npm_[A-Za-z0-9]{36})\(right)", entropy: 3.5),
    SecretRule(
      id: "npm-auth", description: "npm registry credentials",
      keywords: ["_auth"], pattern: #"(?i)(?:^\s*|:)_auth(?:Token)?\s*=\s*["']?([A-Za-z0-9+/=_.~-]{8,})["']?\s*$"#, entropy: 3.0,
      placeholder: #"^(?:\$\{|\$[A-Za-z_]+$|\\\(|\{\{|#\{|%\()"#),
    SecretRule(
      id: "pypi-token", description: "PyPI token",
      keywords: ["pypi-ageichlwas5vcmc"], pattern: "\(left)(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{16,})", entropy: 3.0),

    // MARK: Tokens and URLs
    SecretRule(
      id: "jwt", description: "JSON web token",
      keywords: ["eyj"], pattern: #"(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,})"#,
      entropy: 3.0),
    SecretRule(
      id: "url-password", description: "password in a URL",
      keywords: ["://"],
      pattern: #"[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s:/?#@"'<>`\\]{1,64}:([^\s/?#@"'<>`\\]{2,128})@[A-Za-z0-9_.\[-]"#,
      entropy: 0, placeholder: #"^(?:\$\{?[A-Za-z_]+\}?|\{\{.*\}\}|\{[A-Za-z_.]*\}|<[^>]*>|\*+|%s|%\([a-z_]+\)s|x+|\.\.\.|…)$"#,
      lineMustContain: "@"),
    SecretRule(
      id: "docker-config-auth", description: "Docker registry credentials (auths)",
      keywords: ["\"auth\"", "\"identitytoken\""], pattern: #""(?:auth|identitytoken)"\s*:\s*"([A-Za-z0-9+/=._-]{8,})""#,
      entropy: 2.5, fileKeywords: ["\"auths\""]),
    SecretRule(
      id: "kubernetes-secret", description: "Kubernetes Secret data",
      keywords: [], pattern: #"(?m)^\s*["']?kind["']?\s*:\s*["']?Secret["']?\s*,?\s*(?:#.*)?$"#, entropy: 0,
      fileKeywords: ["kind", "secret"], context: .kubernetesSecretData),
    SecretRule(
      id: "terraform-cloud-token", description: "Terraform Cloud token",
      keywords: [".atlasv1."], pattern: "\(left)([A-Za-z0-9]{14}\\.atlasv1\\.[A-Za-z0-9_=-]{60,})", entropy: 3.5),

    // MARK: Generic
    SecretRule(
      id: "generic-secret", description: "high-entropy value assigned to a secret name",
      keywords: ["key", "secret", "token", "password", "passwd", "pwd", "credential"],
      pattern:
        #"(?i)(?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]*(?:key|secret|token|password|passwd|pwd|credentials?)[A-Za-z0-9_-]*\#(assign)([A-Za-z0-9+/=_.~!@#%^&*-]{12,256})(?=["'`]?(?:\s|[;,)\]}]|$))"#,
      entropy: 3.5,
      placeholder:
        #"^[\w.-]*\.(?:pem|key|crt|json|ya?ml|txt|cfg|conf|ini|py|js|env)$|^(?:[a-z]+[_.-])+[a-z0-9]+$|^[A-Z][A-Za-z]+(?:\.[A-Za-z]+)+$|^(?i:x+|\*+|0+|changeme|example|placeholder|your[_-]?\w*)$|EXAMPLE"#,
      needsLetterAndDigit: true, minimumValueLength: 12),
  ]

  public static let names: [SecretNameRule] = [
    SecretNameRule(
      id: "env-file", description: "environment file", names: [".env", ".env.*", ".env_*", "*.env", ".envrc"],
      except: ["*.example", "*.sample", "*.template", "*.dist", "*.defaults", "*.tmpl", "example.env", "sample.env", "template.env"]),
    SecretNameRule(id: "terraform-state", description: "Terraform state", names: ["*.tfstate", "*.tfstate.*"]),
    SecretNameRule(
      id: "key-store", description: "key or certificate store",
      names: ["*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx", "*.ppk", "*.p8", "*.asc.key"]),
    SecretNameRule(
      id: "ssh-key", description: "SSH key",
      names: ["id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "id_xmss*"]),
    // Any other `id_…` without an extension is a key named by its owner (`id_deploy`).
    SecretNameRule(id: "ssh-key", description: "SSH key", names: ["id_*"], except: ["id_*.*"]),
    SecretNameRule(
      id: "credentials-file", description: "credentials file",
      names: [
        "credentials", "credentials.json", "client_secret*.json", "service-account*.json", ".git-credentials", ".htpasswd",
        ".pgpass", ".dockercfg", "*/.docker/config.json", ".docker/config.json",
      ]),
    SecretNameRule(
      id: "registry-credentials", description: "registry or login credentials",
      names: [".npmrc", ".pypirc", ".netrc", "_netrc", ".yarnrc", ".yarnrc.yml"], onlyWithCredentials: true),
  ]
}

import Foundation
import GitRAGTestSupport
import Testing

@testable import Chunking

/// For every content rule: a text it must find (holding `secret`) and a near miss it must pass.
let ruleSamples: [(rule: String, secret: String, positive: String, negative: String)] = {
  let awsID = "AKIA" + FakeSecret.string(FakeSecret.upper, 16, seed: 2)
  let awsSecret = FakeSecret.string(FakeSecret.base64, 40, seed: 3)
  let google = "AIza" + FakeSecret.string(FakeSecret.alnum, 35, seed: 4)
  let keyID = FakeSecret.string(FakeSecret.hex, 40, seed: 5)
  let oauth = "GOCSPX-" + FakeSecret.string(FakeSecret.alnum, 28, seed: 6)
  let azureKey = FakeSecret.string(FakeSecret.base64, 86, seed: 7) + "=="
  let sas = FakeSecret.string(FakeSecret.alnum, 43, seed: 8) + "%3D"
  let azureAD = "abc1Q~" + FakeSecret.string(FakeSecret.alnum, 34, seed: 9)
  let ghp = "ghp_" + FakeSecret.string(FakeSecret.alnum, 36, seed: 10)
  let pat = "github_pat_" + FakeSecret.string(FakeSecret.alnum, 82, seed: 11)
  let glpat = "glpat-" + FakeSecret.string(FakeSecret.alnum, 20, seed: 12)
  let atbb = "ATBB" + FakeSecret.string(FakeSecret.alnum, 32, seed: 13)
  let atatt = "ATATT3" + FakeSecret.string(FakeSecret.alnum, 180, seed: 14)
  let slack = "xoxb-" + FakeSecret.string(FakeSecret.hex, 12, seed: 15) + "-" + FakeSecret.string(FakeSecret.alnum, 24, seed: 16)
  let webhook =
    "T0" + FakeSecret.string(FakeSecret.upper, 8, seed: 17) + "/B0" + FakeSecret.string(FakeSecret.upper, 8, seed: 18) + "/"
    + FakeSecret.string(FakeSecret.alnum, 24, seed: 19)
  let live = "sk_live_" + FakeSecret.string(FakeSecret.alnum, 24, seed: 20)
  let test = "sk_test_" + FakeSecret.string(FakeSecret.alnum, 24, seed: 21)
  let twilioKey = "SK" + FakeSecret.string(FakeSecret.hex, 32, seed: 22)
  let twilioToken = FakeSecret.string(FakeSecret.hex, 32, seed: 23)
  let sendgrid = "SG." + FakeSecret.string(FakeSecret.alnum, 22, seed: 24) + "." + FakeSecret.string(FakeSecret.alnum, 43, seed: 25)
  let anthropic = "sk-ant-api03-" + FakeSecret.string(FakeSecret.alnum, 90, seed: 26)
  let openai = "sk-proj-" + FakeSecret.string(FakeSecret.alnum, 60, seed: 27)
  let hf = "hf_" + FakeSecret.string(FakeSecret.letters, 34, seed: 28)
  let npm = "npm_" + FakeSecret.string(FakeSecret.alnum, 36, seed: 29)
  let npmAuth = FakeSecret.string(FakeSecret.alnum, 24, seed: 30)
  let pypi = "pypi-AgEIcHlwaS5vcmc" + FakeSecret.string(FakeSecret.alnum, 60, seed: 31)
  let jwt =
    "eyJ" + FakeSecret.string(FakeSecret.alnum, 20, seed: 32) + ".eyJ" + FakeSecret.string(FakeSecret.alnum, 30, seed: 33) + "."
    + FakeSecret.string(FakeSecret.alnum, 43, seed: 34)
  let password = "S3cr" + FakeSecret.string(FakeSecret.alnum, 10, seed: 35)
  let dockerAuth = FakeSecret.string(FakeSecret.base64, 24, seed: 36) + "=="
  let tfc = FakeSecret.string(FakeSecret.alnum, 14, seed: 37) + ".atlasv1." + FakeSecret.string(FakeSecret.alnum, 67, seed: 38)
  let generic = FakeSecret.string(FakeSecret.alnum, 32, seed: 39)
  let k8s = FakeSecret.string(FakeSecret.base64, 24, seed: 40) + "=="
  let keyBody = FakeSecret.string(FakeSecret.base64, 64, seed: 41)
  let lineage = "3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6"
  return [
    (
      "private-key", keyBody, "key = '''\n-----BEGIN RSA PRIVATE KEY-----\n\(keyBody)\n-----END RSA PRIVATE KEY-----\n'''\n",
      "if line == \"-----BEGIN RSA PRIVATE KEY-----\":\n    return True\n"
    ),
    (
      "terraform-state", lineage,
      "{\n  \"version\": 4,\n  \"terraform_version\": \"1.5.0\",\n  \"lineage\": \"\(lineage)\",\n  \"resources\": []\n}\n",
      "{\n  \"lineage\": \"\(lineage)\",\n  \"resources\": []\n}\n"
    ),
    ("aws-access-key-id", awsID, "aws_access_key_id = \(awsID)\n", "aws_access_key_id = AKIA" + "IOSFODNN7EXAMPLE\n"),
    (
      "aws-secret-access-key", awsSecret, "AWS_SECRET_ACCESS_KEY=\(awsSecret)\n",
      "aws_secret_access_key = None  # read from the environment\n"
    ),
    ("gcp-api-key", google, "GOOGLE_MAPS = \"\(google)\"\n", "prefix = \"AIza\" + suffix\n"),
    (
      "gcp-service-account-key-id", keyID, "{\"type\": \"service_account\", \"private_key_id\": \"\(keyID)\"}\n",
      "{\"private_key_id\": \"\"}\n"
    ),
    ("gcp-oauth-client-secret", oauth, "client_secret: \(oauth)\n", "GOCSPX-short\n"),
    (
      "azure-storage-key", azureKey,
      "conn = \"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=\(azureKey);EndpointSuffix=core.windows.net\"\n",
      "conn = \"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=<your key>\"\n"
    ),
    ("azure-shared-access-key", sas, "url = \"https://acme.blob.core.windows.net/c?sv=2022-11-02&ss=b&sig=\(sas)\"\n", "sig=abc\n"),
    ("azure-ad-client-secret", azureAD, "AZURE_CLIENT_SECRET=\(azureAD)\n", "path = \"~/Q~notes\"\n"),
    ("github-token", ghp, "token: \(ghp)\n", "let prefix = \"ghp_\"\n"),
    ("github-fine-grained-token", pat, "GH_PAT=\(pat)\n", "github_pat_ is the prefix\n"),
    ("gitlab-token", glpat, "CI_TOKEN: \(glpat)\n", "tokens start with glpat- and 20 characters\n"),
    ("bitbucket-app-password", atbb, "BB_PASS=\(atbb)\n", "ATBB tokens\n"),
    ("atlassian-api-token", atatt, "JIRA=\(atatt)\n", "ATATT3xxx\n"),
    ("slack-token", slack, "slack = '\(slack)'\n", "# xoxb- tokens are bot tokens\n"),
    ("slack-webhook", webhook, "WEBHOOK = \"https://hooks.slack.com/services/\(webhook)\"\n", "see https://hooks.slack.com/services/\n"),
    ("stripe-live-key", live, "stripe.api_key = \"\(live)\"\n", "if key.startswith(\"sk_live_\"):\n"),
    ("stripe-test-key", test, "STRIPE_KEY=\(test)\n", "# sk_test_ keys are for testing\n"),
    ("twilio-api-key", twilioKey, "TWILIO_API_KEY = \"\(twilioKey)\"\n", "TWILIO_API_KEY = os.environ[\"TWILIO_API_KEY\"]\n"),
    ("twilio-auth-token", twilioToken, "twilio_auth_token = \"\(twilioToken)\"\n", "twilio_auth_token = \"\(twilioToken.prefix(20))\"\n"),
    ("sendgrid-api-key", sendgrid, "SENDGRID = '\(sendgrid)'\n", "SG.settings = {}\n"),
    ("anthropic-api-key", anthropic, "client = Anthropic(api_key=\"\(anthropic)\")\n", "if key.startswith(\"sk-ant-\"):\n"),
    ("openai-api-key", openai, "openai.api_key = \"\(openai)\"\n", "ask-proj-manager = true\n"),
    ("huggingface-token", hf, "HF_TOKEN=\(hf)\n", "def hf_download_url(repo):\n"),
    ("npm-token", npm, "NPM_TOKEN=\(npm)\n", "npm_config_cache=/tmp\n"),
    ("npm-auth", npmAuth, "//registry.npmjs.org/:_authToken=\(npmAuth)\n", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"),
    ("pypi-token", pypi, "password = \(pypi)\n", "tokens begin with pypi-AgEIcHlwaS5vcmc\n"),
    ("jwt", jwt, "headers = {\"Authorization\": \"Bearer \(jwt)\"}\n", "The header starts with eyJhbGciOi.\n"),
    (
      "url-password", password, "DATABASE_URL = \"postgres://app:\(password)@db.internal:5432/app\"\n",
      "DATABASE_URL = \"postgres://app:${DB_PASSWORD}@db.internal:5432/app\"\n"
    ),
    (
      "docker-config-auth", dockerAuth,
      "{\n  \"auths\": {\n    \"registry.example.com\": {\n      \"auth\": \"\(dockerAuth)\"\n    }\n  }\n}\n",
      "{\n  \"auth\": \"required\"\n}\n"
    ),
    ("terraform-cloud-token", tfc, "token = \"\(tfc)\"\n", "hostname = \"app.terraform.io\"  # atlasv1 tokens\n"),
    ("generic-secret", generic, "API_KEY = \"\(generic)\"\n", "sort_key = \"created_at_descending_order\"\n"),
    (
      "kubernetes-secret", k8s, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  password: \(k8s)\n",
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\ndata:\n  password_file: /run/secrets/db-password\n"
    ),
  ]
}()

@Test func everyContentRuleHasASample() {
  let covered = Set(ruleSamples.map(\.rule))
  for rule in SecretRules.content { #expect(covered.contains(rule.id), "rule \(rule.id) has no sample") }
  #expect(Set(SecretRules.content.map(\.id)).count == SecretRules.content.count, "rule ids are unique")
  #expect(SecretScanner.compiled.count == SecretRules.content.count)
}

@Test(arguments: ruleSamples.map(\.rule))
func ruleFindsItsSecretAndPassesTheNearMiss(id: String) throws {
  let sample = try #require(ruleSamples.first { $0.rule == id })
  let findings = SecretScanner.scan(sample.positive)
  #expect(findings.contains { $0.rule == id }, "\(id) missed: \(findings)")
  let negative = SecretScanner.scan(sample.negative)
  #expect(negative.isEmpty, "\(id) near miss flagged: \(negative)")
  // Whatever the outcome, the value is never in the text that passes.
  switch SecretScanner.redact(sample.positive) {
  case .success(let redacted):
    #expect(!redacted.text.contains(sample.secret), "\(id): \(redacted.text)")
    #expect(redacted.text.contains("«redacted:"))
  case .failure(let finding):
    #expect(finding.effect == .skipFile)
    #expect(!finding.description.contains(sample.secret))
  }
  // Allowed, the rule lets its value through.
  let allowed = SecretScanner.scan(sample.positive, allowance: SecretAllowance(rules: [id]))
  #expect(!allowed.contains { $0.rule == id })
}

@Test func redactionKeepsTheCodeAroundTheSecret() throws {
  let key = "sk_live_" + FakeSecret.string(FakeSecret.alnum, 24, seed: 50)
  let text = "import stripe\n\ndef charge(amount):\n    stripe.api_key = \"\(key)\"\n    return stripe.Charge.create(amount=amount)\n"
  guard case .success(let result) = SecretScanner.redact(text) else {
    Issue.record("not redacted")
    return
  }
  #expect(result.text == text.replacingOccurrences(of: key, with: "«redacted:stripe-live-key»"))
  #expect(result.findings.map(\.line) == [4])
  #expect(result.findings.first?.description == "Stripe live key on line 4 (rule stripe-live-key)")
}

@Test func kubernetesSecretBlocksAreRedactedWhole() {
  let value = FakeSecret.string(FakeSecret.base64, 40, seed: 60)
  let text = """
    apiVersion: v1
    kind: Secret
    metadata:
      name: app
    stringData:
      username: admin
      config.yaml: |
        password: \(value)
    data:
      token: \(value)
    ---
    kind: Service
    """
  guard case .success(let result) = SecretScanner.redact(text) else {
    Issue.record("not redacted")
    return
  }
  #expect(!result.text.contains(value))
  #expect(result.text.contains("name: app"))
  #expect(result.text.contains("kind: Service"))
  #expect(!result.text.contains("admin"))
}

@Test func secretNamesAreRulesToo() {
  let filter = FileFilter()
  for path in [
    "prod.env", "config/secrets.env", ".env", ".env.local", "infra/terraform.tfstate", "terraform.tfstate.backup",
    "keys/deploy.p12", "app.jks", "release.keystore", "home/.ssh/id_ed25519", "id_deploy", ".aws/credentials", "credentials",
  ] {
    let reason = filter.precheck(path: path, kind: .regular, size: 10, attribute: .forceInclude)
    #expect(reason?.isSecret == true, "\(path): \(String(describing: reason))")
  }
  for path in [".env.example", "example.env", "src/id_utils.py", "docs/environment.md", "credentials.md", "src/env.py", ".npmrc"] {
    #expect(filter.precheck(path: path, kind: .regular, size: 10, attribute: .unspecified) == nil, "\(path)")
  }
  // Allowed by rule id, the name no longer keeps the file out; its content is still scanned.
  #expect(
    filter.precheck(path: "test.env", kind: .regular, size: 10, attribute: .unspecified, allowance: SecretAllowance(rules: ["env-file"]))
      == nil)
}

@Test func registryFilesAreSkippedOnlyWithCredentials() {
  let filter = FileFilter()
  let token = FakeSecret.string(FakeSecret.alnum, 24, seed: 70)
  for (path, text) in [
    (".npmrc", "//registry.npmjs.org/:_authToken=\(token)\n"), (".pypirc", "[pypi]\nusername = __token__\npassword = \(token)\n"),
    (".netrc", "machine github.com login me password \(token)\n"),
  ] {
    guard case .failure(let reason) = filter.inspect(path: path, data: Data(text.utf8), attribute: .unspecified) else {
      Issue.record("\(path) indexed")
      continue
    }
    #expect(reason.isSecret)
    #expect(!reason.description.contains(token))
  }
  guard case .success = filter.inspect(path: ".npmrc", data: Data("save-exact=true\n".utf8), attribute: .unspecified) else {
    Issue.record(".npmrc without credentials skipped")
    return
  }
}

@Test func allowanceParsesListsAndNamesUnknownRules() {
  let allowance = SecretAllowance(parsing: "jwt, generic-secret,nope")
  #expect(allowance.allows("jwt") && allowance.allows("generic-secret") && !allowance.allows("private-key"))
  #expect(allowance.unknownRules == ["nope"])
  #expect(SecretAllowance(parsing: "true").everything)
}

@Test func entropyIsBitsPerCharacter() {
  #expect(SecretScanner.entropy(Array("aaaa".utf8)) == 0)
  #expect(abs(SecretScanner.entropy(Array("abcd".utf8)) - 2) < 1e-9)
}

import Chunking
import Testing

@Test func analyzerSummarizesModulesImportsAndSyntaxErrors() {
  let files: [(path: String, text: String)] = [
    ("shop/__init__.py", "from .models import Product\nfrom .cart import Cart\n\n__all__ = [\"Product\", \"Cart\"]\n"),
    (
      "shop/models.py",
      "from dataclasses import dataclass\n\n@dataclass\nclass Product:\n    name: str\n    price: int\n\nclass _Internal:\n    pass\n\ndef make_product(name):\n    return Product(name, 0)\n"
    ),
    (
      "shop/cart.py",
      "import logging\nfrom . import models\nfrom .pricing import (\n    total,\n    discount as apply_discount,\n)\n\n\nclass Cart:\n    \"\"\"Items to buy.\n\n    import fake  # inside a docstring, not an import\n    \"\"\"\n\n    def add(self, product: models.Product):\n        pass\n\n\nasync def checkout(cart):\n    return total(cart)\n"
    ),
    (
      "shop/pricing.py",
      "from .models import Product\nfrom ..config import settings\n\ndef total(cart):\n    return sum(p.price for p in cart)\n\ndef _helper():\n    pass\n"
    ),
    ("shop/api/__init__.py", ""),
    (
      "shop/api/views.py",
      "from ..cart import Cart\nfrom shop.models import make_product\nimport requests\n\ndef index(request):\n    return Cart()\n"
    ),
    ("shop/broken.py", "def ok():\n    pass\n\ndef broken(:\n    return [1, 2\n\ndef after():\n    pass\n"),
    ("README.md", "# not python\n"),
  ]
  let summary = PythonAnalyzer.summarize(files: files)
  #expect(PythonAnalyzer.virtualPath == ".rag_metadata/analysis.txt")
  #expect(summary.contains("7 modules, 1 with syntax errors"))
  #expect(summary.contains("shop.models (shop/models.py)\n  classes: Product\n  functions: make_product\n"))
  #expect(!summary.contains("_Internal"))
  #expect(!summary.contains("_helper"))
  #expect(summary.contains("shop.cart (shop/cart.py)\n  classes: Cart\n  functions: checkout\n  imports: shop.models, shop.pricing\n"))
  #expect(summary.contains("  shop -> shop.cart, shop.models\n"))
  #expect(summary.contains("  shop.api.views -> shop.cart, shop.models\n"))
  #expect(summary.contains("  shop.pricing -> shop.models\n"))
  #expect(summary.contains("Most imported modules:\n  shop.models: imported by 4 (shop, shop.api.views, shop.cart, shop.pricing)\n"))
  #expect(!summary.contains("fake"))
  #expect(summary.contains("  requests: 1 module\n"))
  #expect(summary.contains("shop/broken.py: line 4:"))
  #expect(summary.contains("shop.broken (shop/broken.py)\n  functions: ok, broken\n  syntax error on line 4: '(' was never closed\n"))
  #expect(!summary.contains("README"))
  // Order of the input does not matter.
  #expect(PythonAnalyzer.summarize(files: files.reversed()) == summary)
}

@Test func analyzerSurvivesGarbage() {
  let files: [(path: String, text: String)] = [
    ("a.py", "\"\"\"never closed\n"),
    ("b.py", ")))\n"),
    ("c.py", "x = 'unterminated\n"),
    ("d.py", "    indented = 1\n  def f(:\n"),
    ("e.py", String(repeating: "(", count: 10_000)),
  ]
  let summary = PythonAnalyzer.summarize(files: files)
  #expect(summary.contains("5 modules, 5 with syntax errors"))
  #expect(PythonAnalyzer.summarize(files: []) == "")
}

@Test func factsRoundTripThroughTheirEncoding() {
  let samples: [PythonFileFacts] = [
    PythonFileFacts(),
    PythonFileFacts(
      text:
        "from .models import Product\nimport a.b as c, d\nfrom ... import (x,\n y)\n\nclass Cart:\n    pass\n\ndef checkout():\n    pass\n"),
    PythonFileFacts(text: "def broken(:\n    return [1, 2\n"),
    PythonFileFacts(
      classes: ["Ünïcode", "", String(repeating: "x", count: 300)], functions: ["a,b", "line\nbreak"],
      imports: [PythonImport(level: 3, module: "", names: ["*"]), PythonImport(level: 0, module: "émoji.🐍", names: [])],
      issue: .init(line: 12_345_678, message: "'(' was never closed")),
  ]
  #expect(samples[1].classes == ["Cart"] && samples[1].functions == ["checkout"] && samples[1].imports.count == 4)
  #expect(samples[2].issue?.line == 1)
  for facts in samples {
    let bytes = facts.encoded()
    #expect(PythonFileFacts(encoded: bytes) == facts)
    // A cut or padded encoding is rejected, never misread.
    if !bytes.isEmpty { #expect(PythonFileFacts(encoded: Array(bytes.dropLast())) == nil) }
    #expect(PythonFileFacts(encoded: bytes + [0]) == nil)
  }
}

/// A generated project of `count` files: packages of 25 (an `__init__.py` and 24 modules) that
/// import the next package and each other, with classes, an external import and a few broken files.
private func project(modules count: Int) -> [(path: String, text: String)] {
  let packages = (count + 24) / 25
  return (0..<count).map { i in
    let package = i / 25
    let path = i % 25 == 0 ? "app/pkg\(package)/__init__.py" : "app/pkg\(package)/mod\(i).py"
    let next = (package + 1) % packages * 25 + 1 + i % 24
    var text = "import os\nfrom pkg\((package + 1) % packages) import mod\(next)\nfrom . import mod\(package * 25 + 1)\n\n"
    if i % 5 == 0 { text += "class Model\(i):\n    pass\n\n" }
    text += "def handler_\(i)(request):\n    return request\n"
    if i % 97 == 0 { text += "def broken(:\n" }
    return (path, text)
  }
}

@Test func summaryFromCachedFactsEqualsSummaryFromParsing() {
  for files in [project(modules: 40), project(modules: 600)] {
    let decoded = files.map { ($0.path, PythonFileFacts(encoded: PythonFileFacts(text: $0.text).encoded())!) }
    #expect(PythonAnalyzer.summarize(modules: decoded) == PythonAnalyzer.summarize(files: files))
  }
}

@Test func smallProjectsKeepTheModuleListingUpToTheLimit() {
  let atLimit = PythonAnalyzer.summarize(files: project(modules: PythonAnalyzer.fullListingLimit))
  #expect(atLimit.contains("\nModules:\n"))
  #expect(atLimit.contains("pkg0.mod5 (app/pkg0/mod5.py)\n  classes: Model5\n  functions: handler_5\n  imports: pkg0.mod1, pkg1.mod31\n"))
  #expect(atLimit.contains("\nInternal dependencies (importer -> imported):\n"))
  let above = PythonAnalyzer.summarize(files: project(modules: PythonAnalyzer.fullListingLimit + 1))
  #expect(!above.contains("\nModules:\n"))
  #expect(above.contains("Large project: an overview by package"))
}

@Test func largeProjectOverviewIsBoundedDeterministicAndStableUnderSmallEdits() {
  let files = project(modules: 5_000)
  var modules = files.map { (path: $0.path, facts: PythonFileFacts(text: $0.text)) }
  let summary = PythonAnalyzer.summarize(modules: modules)
  #expect(summary.utf8.count <= PythonAnalyzer.overviewByteLimit)
  #expect(summary.hasPrefix("Python project analysis\n5000 modules, 52 with syntax errors\n"))
  #expect(
    summary.contains(
      "\nPackages (folder: modules; public classes):\n  app/pkg0: 25 modules; classes: Model0, Model10, Model15, Model20, Model5\n"))
  #expect(summary.contains("  … and ") && summary.contains(" more packages\n"))
  #expect(summary.contains("\nPackage dependencies (importer -> imported):\n  app/pkg0 -> app/pkg1\n"))
  #expect(summary.contains("\nMost imported modules:\n  pkg1.mod26: imported by 26 (pkg0, pkg0.mod24, pkg1, "))
  #expect(summary.contains("\nExternal packages imported:\n  os: 5000 modules\n"))
  #expect(summary.contains("\nFiles with syntax errors (partly analysed):\n  app/pkg0/__init__.py: line 10:"))
  #expect(!summary.contains("handler_"))
  // Same tree in another order: same text.
  #expect(PythonAnalyzer.summarize(modules: modules.shuffled()) == summary)
  // A public function added to one module: nothing the overview shows changes.
  modules[1234].facts = PythonFileFacts(text: files[1234].text + "\ndef added():\n    return 1\n")
  #expect(modules[1234].facts.functions.count == 2)
  #expect(PythonAnalyzer.summarize(modules: modules) == summary)
  // A new class does.
  modules[1].facts = PythonFileFacts(text: files[1].text + "\nclass Added:\n    pass\n")
  #expect(
    PythonAnalyzer.summarize(modules: modules).contains("app/pkg0: 25 modules; classes: Model0, Added, Model10, Model15, Model20, Model5"))
}

/// Patterns CPython accepts that once gave a syntax error (seen in flask and friends).
@Test(arguments: [
  "import typing as t\n\nif t.TYPE_CHECKING:  # pragma: no cover\n    from .app import Flask\n\nclass Config:\n    pass\n",
  "class A:  # a comment after the colon\n    def f(self):\t# tab before the comment\n        return 1\n",
  "def f(\n    x,\n):  # closing bracket, then a comment\n    return x\n\nclass B:\n    pass\n",
  "try:\r\n    import json\r\nexcept ImportError:  # CRLF line endings\r\n    json = None\r\n\r\nclass C:\r\n    pass\r\n",
  "with open('f') as f:   \n    data = f.read()\n\nclass D:\n    pass\n",
  "for i in range(3): # no space before the hash\n    pass\nelse:  #\n    pass\n\nclass E:\n    pass\n",
  // A one-line string continued by a backslash (sympy): the next line is still inside the string.
  "def check(sigma):\n    _value_check(sigma > 0, \"Scale parameter must be real\\\n    and positive (it's a scale).\")\n\nclass F:\n    pass\n",
  "x = sympify( \\\n    'Piecewise((C391 - 1.65, \\\n    C391 > 2.35), (C392, True))'\n)\n\nclass G:\n    pass\n",
])
func scannerAcceptsBlockOpenersFollowedByComments(source: String) {
  let facts = PythonFileFacts(text: source)
  #expect(facts.issue == nil, "\(facts.issue.map { "line \($0.line): \($0.message)" } ?? "")")
  #expect(!facts.classes.isEmpty)
}

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
    ("shop/pricing.py", "from .models import Product\nfrom ..config import settings\n\ndef total(cart):\n    return sum(p.price for p in cart)\n\ndef _helper():\n    pass\n"),
    ("shop/api/__init__.py", ""),
    ("shop/api/views.py", "from ..cart import Cart\nfrom shop.models import make_product\nimport requests\n\ndef index(request):\n    return Cart()\n"),
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

/// Real-looking source files, one per language, for golden tests.
enum Fixtures {
  static let python = #"""
    """Billing service: invoices and payments."""

    import logging
    from dataclasses import dataclass, field

    from .models import Customer
    from ..util import money

    log = logging.getLogger(__name__)
    DEFAULT_CURRENCY = "EUR"


    @dataclass
    class LineItem:
        """One billed line."""

        description: str
        quantity: int = 1
        unit_price: int = 0

        @property
        def total(self) -> int:
            return self.quantity * self.unit_price


    class Invoice:
        """An invoice with line items.

        Totals are computed in cents to avoid rounding errors.
        """

        currency = DEFAULT_CURRENCY

        def __init__(self, customer: Customer, items=None):
            self.customer = customer
            self.items = list(items or [])
            self.paid = False

        def add(self, item: LineItem) -> None:
            """Append an item to the invoice."""
            if item.quantity <= 0:
                raise ValueError(f"quantity must be positive, got {item.quantity}")
            self.items.append(item)

        @property
        def total(self) -> int:
            return sum(item.total for item in self.items)

        # Payment is idempotent: paying twice is a no-op.
        def pay(self, amount: int) -> bool:
            if self.paid:
                return True
            if amount < self.total:
                log.warning("partial payment of %s for %s", money.format(amount), self.customer.name)
                return False
            self.paid = True
            return True


    def render(invoice: Invoice) -> str:
        lines = [f"{item.description}: {money.format(item.total)}" for item in invoice.items]
        return "\n".join(lines + [f"Total: {money.format(invoice.total)}"])


    if __name__ == "__main__":
        print(render(Invoice(Customer("ACME"))))
    """#

  static let markdown = #"""
    # git-rag

    Keeps a retrieval index of a repository fresh.

    ## Install

    Pick your platform.

    ### Linux

    ```sh
    # not a heading
    apt-get install libgit2-dev
    ```

    ### macOS

    Use Homebrew:

        brew install libgit2

    ## Usage

    Run `git rag sync` from any folder of the repository.

    Setext heading
    --------------

    The end.
    """#

  static let swift = #"""
    import Foundation

    /// A store of vectors.
    public protocol VectorStore: Sendable {
      func upsert(_ points: [Point]) async throws
    }

    @MainActor
    public final class SearchEngine {
      let store: any VectorStore
      let limit: Int

      init(store: any VectorStore, limit: Int = 10) {
        self.store = store
        self.limit = limit
      }

      /// Searches for `query`; braces in strings "{" and comments { do not count.
      func search(_ query: String) async throws -> [String] {
        let terms = query.split(separator: " ")
        guard !terms.isEmpty else { return [] }
        let text = """
          multi-line { string
          """
        return terms.map { "\($0) \(text)" }
      }
    }

    extension SearchEngine {
      var isEmpty: Bool { limit == 0 }
    }

    func main() {
      print("hello")
    }
    """#

  static let typescript = #"""
    import { readFile } from "node:fs/promises";
    import type { Config } from "./config";

    export interface Options {
      root: string;
      verbose?: boolean;
    }

    const template = `
      { not a block
    `;

    export class Loader {
      constructor(private readonly options: Options) {}

      async load(path: string): Promise<Config> {
        const text = await readFile(path, "utf8");
        return JSON.parse(text) as Config;
      }

      describe(): string {
        return `loader for ${this.options.root}`;
      }
    }

    export const handler = async (event: { path: string }) => {
      return new Loader({ root: "/" }).load(event.path);
    };

    export default function main(): void {
      console.log(template);
    }
    """#

  static let go = #"""
    package server

    import (
    	"fmt"
    	"net/http"
    )

    // Server answers search queries.
    type Server struct {
    	addr string
    	mux  *http.ServeMux
    }

    // New makes a server listening on addr.
    func New(addr string) *Server {
    	return &Server{addr: addr, mux: http.NewServeMux()}
    }

    func (s *Server) Start() error {
    	s.mux.HandleFunc("/search", func(w http.ResponseWriter, r *http.Request) {
    		fmt.Fprintf(w, "{\"query\": %q}", r.URL.Query().Get("q"))
    	})
    	return http.ListenAndServe(s.addr, s.mux)
    }
    """#

  static let rust = #"""
    use std::collections::HashMap;
    use std::fmt;

    /// A cache of embeddings keyed by chunk hash.
    pub struct Cache<'a> {
        entries: HashMap<&'a str, Vec<f32>>,
    }

    impl<'a> Cache<'a> {
        pub fn new() -> Self {
            Cache { entries: HashMap::new() }
        }

        pub fn get(&self, key: &str) -> Option<&Vec<f32>> {
            self.entries.get(key)
        }
    }

    impl fmt::Display for Cache<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{} entries, '{{' brace", self.entries.len())
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn empty() {
            assert!(super::Cache::new().entries.is_empty());
        }
    }
    """#

  static let java = #"""
    package com.example.billing;

    import java.util.ArrayList;
    import java.util.List;

    /**
     * Invoices for a customer. A brace in a comment: {
     */
    public class InvoiceService {
        private final List<String> invoices = new ArrayList<>();

        public InvoiceService() {
        }

        @Override
        public String toString() {
            return "InvoiceService{" + invoices.size() + "}";
        }

        public void add(String invoice) {
            if (invoice == null) {
                throw new IllegalArgumentException("invoice");
            }
            invoices.add(invoice);
        }
    }
    """#

  static let c = #"""
    #include <stdio.h>
    #include <stdlib.h>

    #define MAX_ITEMS 64

    struct item {
        const char *name;
        int count;
    };

    static int compare(const void *a, const void *b)
    {
        const struct item *x = a, *y = b;
        return x->count - y->count;
    }

    int main(int argc, char **argv) {
        struct item items[MAX_ITEMS];
        printf("%d args, brace '{'\n", argc);
        qsort(items, 0, sizeof items[0], compare);
        return 0;
    }
    """#

  static let ruby = #"""
    require "json"

    module Billing
      class Invoice
        attr_reader :items

        def initialize(items = [])
          @items = items
        end

        def total
          items.sum { |item| item[:price] }
        end

        def paid?
          @paid == true
        end
      end
    end

    def report(invoice)
      invoice.items.each do |item|
        puts "#{item[:name]}: #{item[:price]}"
      end
    end
    """#

  static let shell = #"""
    #!/usr/bin/env bash
    set -euo pipefail

    # Prints usage.
    usage() {
      echo "usage: $0 [-v] path" >&2
      exit 2
    }

    build() {
      local target="$1"
      case "$target" in
        debug) swift build ;;
        release) swift build -c release ;;
        *) usage ;;
      esac
    }

    if [ $# -lt 1 ]; then
      usage
    fi

    build "$1"
    """#

  static let yaml = #"""
    # CI pipeline
    name: ci

    on:
      push:
        branches: [main]
      pull_request: {}

    jobs:
      test:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v4
          - run: |
              swift build
              swift test
    """#

  static let json = #"""
    {
      "name": "git-rag",
      "version": "1.0.0",
      "scripts": {
        "build": "swift build",
        "test": "swift test"
      },
      "keywords": ["rag", "git", "{not a brace}"]
    }
    """#

  static let toml = #"""
    # Cargo manifest
    [package]
    name = "git-rag"
    version = "0.1.0"

    [dependencies]
    serde = { version = "1", features = ["derive"] }

    # Dev-only
    [dev-dependencies]
    proptest = "1"
    """#
}

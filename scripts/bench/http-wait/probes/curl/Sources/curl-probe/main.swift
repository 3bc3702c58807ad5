import Foundation
import HTTPTransport

// Usage: curl-probe URL  -- one POST with a small JSON body, prints the status and body size.
var request = HTTPRequest(method: "POST", url: URL(string: CommandLine.arguments[1])!, body: Data(#"{"model":"m","input":["probe"]}"#.utf8))
request.setHeader("Content-Type", "application/json")
let response = try await HTTPClient().perform(request)
print(response.status, response.body.count)

import Foundation
#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

// Usage: urlsession-probe URL  -- one POST with a small JSON body, prints the status and body size.
var request = URLRequest(url: URL(string: CommandLine.arguments[1])!)
request.httpMethod = "POST"
request.httpBody = Data(#"{"model":"m","input":["probe"]}"#.utf8)
request.setValue("application/json", forHTTPHeaderField: "Content-Type")
let (data, response) = try await URLSession.shared.data(for: request)
print((response as! HTTPURLResponse).statusCode, data.count)

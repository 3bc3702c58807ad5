import AsyncHTTPClient
import Foundation
import NIOCore

// Usage: ahc-probe URL  -- one POST with a small JSON body, prints the status and body size.
let url = CommandLine.arguments[1]
var request = HTTPClientRequest(url: url)
request.method = .POST
request.headers.add(name: "Content-Type", value: "application/json")
request.body = .bytes(ByteBuffer(string: #"{"model":"m","input":["probe"]}"#))
let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
let body = try await response.body.collect(upTo: 16 << 20)
print(response.status.code, body.readableBytes)

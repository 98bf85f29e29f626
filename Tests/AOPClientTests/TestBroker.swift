import AOPClient
import AOPEmbedded
import AOPIO
import Testing

/// Runs `body` with an in-process broker listening on a free loopback port and a client connection to it.
func withBroker<R>(
    _ body: (AMQPClientConfiguration, AMQPClientConnection) async throws -> R
) async throws -> R {
    try await EmbeddedBroker.with(configuration: EmbeddedConfiguration(listeners: [.init(host: "127.0.0.1", port: 0)])) {
        broker in
        var configuration = AMQPClientConfiguration(port: broker.listenerPorts[0])
        configuration.connectionName = "AOPClientTests"
        let connection = try await AMQPClientConnection.connect(configuration)
        do {
            let result = try await body(configuration, connection)
            try? await connection.close()
            return result
        } catch {
            await connection.abort()
            throw error
        }
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Expects `body` to throw an `AMQPClientError` and returns it.
/// (Any other error is reported as an issue and returns nil.)
func expectClientError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async -> AMQPClientError? {
    do {
        try await body()
        Issue.record("expected an AMQPClientError, nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as AMQPClientError {
        return error
    } catch {
        Issue.record("expected an AMQPClientError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

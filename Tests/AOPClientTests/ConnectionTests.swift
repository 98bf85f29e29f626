import AOPClient
import AOPEmbedded
import Testing

@Suite struct ConnectionTests {
    @Test func connectsNegotiatesAndClosesGracefully() async throws {
        try await withBroker { _, connection in
            #expect(await connection.isOpen)
            #expect(await connection.frameMax > 0)
            #expect(await connection.channelMax > 0)
            let channel = try await connection.openChannel()
            #expect(channel.id >= 1)
            try await connection.close()
            #expect(await !connection.isOpen)
            let error = await connection.waitUntilClosed()
            #expect(error.code == .connectionClosed)
            // Later calls fail with the connection's error.
            let later = await expectClientError { _ = try await channel.queueDeclare("after-close") }
            #expect(later?.code == .connectionClosed)
        }
    }

    @Test func wrongPasswordIsRefused() async throws {
        try await withBroker { configuration, _ in
            var bad = configuration
            bad.password = "wrong"
            let error = await expectClientError { _ = try await AMQPClientConnection.connect(bad) }
            #expect(error != nil)
            #expect(error?.code == .handshakeFailed || error?.code == .transport)
        }
    }

    @Test func unknownVirtualHostIsRefused() async throws {
        try await withBroker { configuration, _ in
            var bad = configuration
            bad.virtualHost = "no-such-vhost"
            let error = await expectClientError { _ = try await AMQPClientConnection.connect(bad) }
            #expect(error?.code == .handshakeFailed)
            #expect(error?.replyCode == 530)
        }
    }

    @Test func connectionRefusedIsATransportError() async throws {
        // Port 1 on loopback: nothing listens there.
        let error = await expectClientError {
            _ = try await AMQPClientConnection.connect(AMQPClientConfiguration(port: 1))
        }
        #expect(error?.code == .transport)
    }

    @Test func abortFailsPendingAndLaterCalls() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            _ = try await channel.queueDeclare("abort-q")
            let consumer = try await channel.basicConsume(queue: "abort-q")
            await connection.abort()
            var iterator = consumer.deliveries.makeAsyncIterator()
            let next = try await iterator.next()
            #expect(next == nil)  // a local close/abort ends sequences normally
            let error = await expectClientError { try await channel.basicQos(prefetchCount: 1) }
            #expect(error?.code == .connectionClosed)
        }
    }

    @Test func serverConnectionCloseCarriesReplyCode() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            // Acking an unknown delivery tag is a channel error (406); a channel.open on an open channel
            // number is not reachable through the API, so provoke a hard error with a reserved exchange type.
            let error = await expectClientError {
                try await channel.exchangeDeclare("bad-type-x", type: "no-such-type")
            }
            #expect(error != nil)
            #expect(error?.replyCode == 503)
            #expect(error?.code == .connectionClosedByServer)
            #expect(error?.classID == 40 && error?.methodID == 10)
            let closed = await connection.waitUntilClosed()
            #expect(closed.replyCode == 503)
        }
    }
}

import AOPClient
import AOPEmbedded
import Testing

@Suite struct ConfirmReturnTests {
    @Test func confirmsNumberPublishesAndSettleThem() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            _ = try await channel.queueDeclare("cr.q")
            try await channel.confirmSelect()
            let confirms = try await channel.confirms()
            var sequences: [UInt64] = []
            for i in 0..<50 {
                sequences.append(try await channel.basicPublish(routingKey: "cr.q", body: bytes("\(i)")))
            }
            #expect(sequences == Array(1...50))
            #expect(try await channel.waitForConfirms())
            let counts = try await channel.confirmCounts()
            #expect(counts.published == 50 && counts.acked == 50 && counts.nacked == 0)
            // The confirm events cover exactly 1...50.
            var settled = Set<UInt64>()
            var highest: UInt64 = 0
            for try await confirm in confirms {
                #expect(confirm.ack)
                if confirm.multiple {
                    for tag in (highest + 1)...confirm.deliveryTag { settled.insert(tag) }
                } else {
                    settled.insert(confirm.deliveryTag)
                }
                highest = max(highest, confirm.deliveryTag)
                if settled.count == 50 { break }
            }
            #expect(settled == Set(1...50))
        }
    }

    @Test func windowedWaitAndBatchPublishInConfirmMode() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            _ = try await channel.queueDeclare("cr.window")
            try await channel.confirmSelect()
            let encoder = AMQPPublishEncoder(channel: channel.id, exchange: "", routingKey: "cr.window",
                                             body: bytes("x"), frameMax: await connection.frameMax)
            var encoded: [UInt8] = []
            encoder.append(count: 200, to: &encoded)
            #expect(try await channel.publish(encoded: encoded, count: 200) == 200)
            try await channel.waitForConfirms(outstandingBelow: 10)
            #expect(try await channel.waitForConfirms())
            #expect(try await channel.queueDeclare("cr.window", passive: true).messageCount == 200)
        }
    }

    @Test func waitForConfirmsOutsideConfirmModeIsRefused() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            let error = await expectClientError { try await channel.waitForConfirms() }
            #expect(error?.code == .invalidArgument)
        }
    }

    @Test func unroutableMandatoryMessagesAreReturned() async throws {
        try await withBroker { _, connection in
            let channel = try await connection.openChannel()
            try await channel.confirmSelect()
            var properties = BasicProperties()
            properties.messageID = "m-1"
            try await channel.basicPublish(routingKey: "cr.nowhere", body: bytes("lost"), properties: properties,
                                           mandatory: true)
            var returns = channel.returns.makeAsyncIterator()
            let returned = try #require(try await returns.next())
            #expect(returned.replyCode == 312)
            #expect(returned.routingKey == "cr.nowhere")
            #expect(returned.properties.messageID == "m-1")
            #expect(text(returned.body) == "lost")
            #expect(try await channel.waitForConfirms())  // returned messages are still acked
        }
    }
}

import Synchronization
import AOPIO
import AOPWire

extension AMQPClientConnection {
    /// The reader: receives chunks until the connection ends and processes each in place.
    func runReader() async {
        while self.phase != .closed {
            let chunk: [UInt8]?
            do {
                chunk = try await self.tcp.receive()
            } catch {
                self.terminate(.transport("connection lost: \(error)"))
                return
            }
            guard let chunk else {
                let text = self.phase == .closing ? "closed by client (server closed the socket)" : "server closed the socket"
                self.terminate(AMQPClientError(self.phase == .closing ? .connectionClosed : .transport, text))
                return
            }
            guard !chunk.isEmpty, self.phase != .closed else { continue }
            self.receivedChunks &+= 1
            do {
                try self.process(chunk)
                while let full = self.fullConsumers.popLast() {
                    self.isReaderPaused = true
                    await full.queue.waitForDrain(isolation: self)
                    self.isReaderPaused = false
                }
            } catch {
                var flush = false
                if error.code == .protocolViolation, self.phase == .open {
                    self.send(.connectionClose(ConnectionClose(replyCode: 505, replyText: "UNEXPECTED_FRAME - \(error.replyText)",
                                                               classID: 0, methodID: 0)), channel: 0)
                    flush = true
                }
                self.terminate(error, flush: flush)
                return
            }
        }
    }

    /// Parses every complete unit of `chunk` (after what was left over from the last read) and keeps the
    /// incomplete rest for the next read. Deliveries are handed out per consumer as one batch per read.
    func process(_ chunk: [UInt8]) throws(AMQPClientError) {
        let storage: [UInt8]
        if self.carry.isEmpty {
            storage = chunk
        } else {
            self.carry.append(contentsOf: chunk)
            storage = self.carry
            self.carry = []
        }
        var offset = 0
        var failure: AMQPClientError?
        storage.withUnsafeBytes { raw in
            var route: DeliveryRoute?
            do throws(AMQPClientError) {
                while self.phase != .closed {
                    let unit = try self.scanner.next(in: raw, offset: &offset)
                    switch unit {
                    case .needMore:
                        return
                    case .heartbeat:
                        continue
                    case .method(let channel, let classID, let methodID, let payload):
                        route = nil
                        try self.handleMethod(channel: channel, classID: classID, methodID: methodID,
                                              payload: UnsafeRawBufferPointer(rebasing: raw[payload]), storage: storage)
                    case .content(let span) where span.methodID == 60:
                        try self.gatherDelivery(span, raw: raw, route: &route)
                    case .content(let span):
                        route = nil
                        try self.handleContent(span, raw: raw)
                    }
                }
            } catch {
                failure = error
            }
        }
        self.flushTouched(storage: storage)
        if let failure { throw failure }
        if offset < storage.count, self.phase != .closed {
            self.carry = Array(storage[offset...])
        }
    }

    /// Hands every consumer's gathered deliveries to its sequence.
    func flushTouched(storage: [UInt8]) {
        guard !self.touched.isEmpty else { return }
        for consumer in self.touched {
            consumer.isTouched = false
            consumer.flush(storage: storage)
            if consumer.queue.isFull { self.fullConsumers.append(consumer) }
        }
        self.touched.removeAll(keepingCapacity: true)
    }

    private func handleMethod(channel: UInt16, classID: UInt16, methodID: UInt16, payload: UnsafeRawBufferPointer,
                              storage: [UInt8]) throws(AMQPClientError) {
        // Deliveries gathered so far go out before anything that may end their consumer.
        self.flushTouched(storage: storage)
        if channel != 0, classID == 60, methodID == 80 || methodID == 120, payload.count >= 13 {
            // basic.ack / basic.nack: the confirm hot path, decoded in place.
            let tag = FrameScanner.uint64(payload, 4)
            let multiple = payload[12] & 1 != 0
            self.confirm(channel: channel, deliveryTag: tag, multiple: multiple, ack: methodID == 80)
            return
        }
        var buffer = ByteBuffer(bytes: payload)
        let method: AMQPMethod
        do {
            method = try AMQPMethod.decode(from: &buffer)
        } catch {
            throw .protocolViolation("cannot decode method \(classID).\(methodID): \(error)")
        }
        if channel == 0 {
            try self.handleConnectionMethod(method)
        } else {
            try self.handleChannelMethod(method, channel: channel)
        }
    }

    private func handleContent(_ span: ContentSpan, raw: UnsafeRawBufferPointer) throws(AMQPClientError) {
        guard let channel = self.channels[span.channel] else {
            // Sent before the server saw our channel.close, or crossing it: discarded (spec, channel.close).
            return
        }
        switch span.methodID {
        case 50:
            let returned = try Self.returnedMessage(span, raw: raw)
            channel.shared.returns.push(returned)
        default:  // 71 basic.get-ok
            let delivery = try Self.getOkDelivery(span, raw: raw)
            try self.completeRPC(channel: channel, classID: 60, methodID: 71, reply: .delivery(delivery))
        }
    }

    /// Records a `basic.deliver` in its consumer's batch; one for an unknown consumer is counted.
    private func gatherDelivery(_ span: ContentSpan, raw: UnsafeRawBufferPointer, route: inout DeliveryRoute?)
        throws(AMQPClientError)
    {
        var offset = span.method.lowerBound + 4
        guard span.method.count >= 4 + 1 + 9 else { throw .protocolViolation("short basic.deliver") }
        let tagLength = Int(raw[offset])
        guard offset + 1 + tagLength + 9 <= span.method.upperBound else { throw .protocolViolation("short basic.deliver") }
        let tagBytes = UnsafeRawBufferPointer(rebasing: raw[(offset + 1)..<(offset + 1 + tagLength)])
        offset += 1 + tagLength
        let deliveryTag = FrameScanner.uint64(raw, offset)
        let redelivered = raw[offset + 8] & 1 != 0
        let consumer: ConsumerState
        if let known = route, known.matches(channel: span.channel, tag: tagBytes) {
            consumer = known.consumer
        } else {
            guard let channel = self.channels[span.channel] else {
                // The channel closed: discarded, as the spec asks, but counted on the closed channel so it
                // is never dropped silently. RabbitMQ sends deliveries that race its own channel.close.
                self.closedChannels[span.channel]?.discardedAfterClose.wrappingAdd(1, ordering: .relaxed)
                return
            }
            guard let found = channel.consumer(tag: tagBytes) else {
                channel.shared.recordUnexpected(
                    AMQPUnexpectedDelivery(consumerTag: String(decoding: tagBytes, as: UTF8.self), deliveryTag: deliveryTag))
                return
            }
            consumer = found
            route = DeliveryRoute(channelID: span.channel, consumer: found)
        }
        var entry = DeliveryEntry(method: Int32(span.method.lowerBound), header: Int32(span.header.lowerBound),
                                  headerLength: Int32(span.header.count), body: 0, bodyLength: 0, bodyIndex: -1,
                                  redelivered: redelivered, deliveryTag: deliveryTag)
        switch span.body {
        case .contiguous(let range):
            entry.body = Int32(range.lowerBound)
            entry.bodyLength = Int32(range.count)
        case .pieces(let ranges):
            entry.bodyIndex = Int32(consumer.extraBodies.count)
            consumer.extraBodies.append(Self.join(ranges, raw: raw))
        }
        consumer.building.append(entry)
        if !consumer.isTouched {
            consumer.isTouched = true
            self.touched.append(consumer)
        }
    }

    static func join(_ ranges: [Range<Int>], raw: UnsafeRawBufferPointer) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(ranges.reduce(0) { $0 + $1.count })
        for range in ranges { body.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[range])) }
        return body
    }

    static func body(_ location: BodyLocation, raw: UnsafeRawBufferPointer) -> [UInt8] {
        switch location {
        case .contiguous(let range): Array(UnsafeRawBufferPointer(rebasing: raw[range]))
        case .pieces(let ranges): Self.join(ranges, raw: raw)
        }
    }

    static func decodeContentMethod(_ span: ContentSpan, raw: UnsafeRawBufferPointer) throws(AMQPClientError) -> AMQPMethod {
        var buffer = ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: raw[span.method]))
        do {
            return try AMQPMethod.decode(from: &buffer)
        } catch {
            throw .protocolViolation("cannot decode method 60.\(span.methodID): \(error)")
        }
    }

    static func returnedMessage(_ span: ContentSpan, raw: UnsafeRawBufferPointer) throws(AMQPClientError) -> AMQPReturnedMessage {
        guard case .basicReturn(let r) = try Self.decodeContentMethod(span, raw: raw) else {
            throw .protocolViolation("basic.return expected")
        }
        return AMQPReturnedMessage(replyCode: r.replyCode, replyText: r.replyText, exchange: r.exchange,
                                   routingKey: r.routingKey,
                                   properties: AMQPDeliveryBatch.properties(UnsafeRawBufferPointer(rebasing: raw[span.header])),
                                   body: Self.body(span.body, raw: raw))
    }

    static func getOkDelivery(_ span: ContentSpan, raw: UnsafeRawBufferPointer) throws(AMQPClientError) -> AMQPDelivery {
        guard case .basicGetOk(let g) = try Self.decodeContentMethod(span, raw: raw) else {
            throw .protocolViolation("basic.get-ok expected")
        }
        return AMQPDelivery(deliveryTag: g.deliveryTag, redelivered: g.redelivered, exchange: g.exchange,
                            routingKey: g.routingKey, consumerTag: "",
                            properties: AMQPDeliveryBatch.properties(UnsafeRawBufferPointer(rebasing: raw[span.header])),
                            body: Self.body(span.body, raw: raw))
    }
}

import AOPIO
import AOPWire

extension AMQPClientConnection {
    /// Sends the protocol header, starts the reader and waits for `connection.open-ok`.
    func handshake() async throws(AMQPClientError) {
        self.scratch.clear()
        self.scratch.writeProtocolHeader()
        self.writeScratch()
        // On the ring: a plain `Task {}` starts on the global pool, and every receive it resumes from
        // would hop there and back (a cross-thread wake-up per read, milliseconds at p99 under load).
        Task(executorPreference: self.loop) { await self.runReader() }
        let timeout = self.configuration.connectTimeout
        let watchdog = Task {
            try await self.loop.sleep(for: timeout)
            if self.phase != .open, self.phase != .closed {
                self.terminate(AMQPClientError(.handshakeFailed, "no handshake within \(timeout)"))
            }
        }
        defer { watchdog.cancel() }
        // The body may run after other jobs of this actor (seen with Swift 6.3 on this custom executor):
        // it re-checks the state instead of assuming nothing happened since the call.
        let result = await withUnsafeContinuation { (continuation: UnsafeContinuation<Result<Void, AMQPClientError>, Never>) in
            switch self.phase {
            case .open: continuation.resume(returning: .success(()))
            case .closed, .closing:
                continuation.resume(returning: .failure(self.closeError ?? AMQPClientError(.connectionClosed, "closed")))
            case .awaitingStart, .awaitingTune, .awaitingOpenOk: self.handshakeWaiter = continuation
            }
        }
        try result.get()
    }

    func finishHandshake(_ result: Result<Void, AMQPClientError>) {
        guard let waiter = self.handshakeWaiter else { return }
        self.handshakeWaiter = nil
        waiter.resume(returning: result)
    }

    var clientProperties: FieldTable {
        var capabilities = FieldTable()
        for name in ["publisher_confirms", "exchange_exchange_bindings", "basic.nack", "consumer_cancel_notify",
                     "connection.blocked", "authentication_failure_close", "per_consumer_qos"] {
            capabilities.entries.append(.init(key: name, value: .bool(true)))
        }
        var properties: FieldTable = [
            "product": "aop AOPClient", "platform": "Swift", "version": "0.1",
            "capabilities": .table(capabilities),
        ]
        if let name = self.configuration.connectionName {
            properties.entries.append(.init(key: "connection_name", value: .longString(Array(name.utf8))))
        }
        return properties
    }

    /// Handles a method on channel 0.
    func handleConnectionMethod(_ method: AMQPMethod) throws(AMQPClientError) {
        switch (self.phase, method) {
        case (.awaitingStart, .connectionStart(let start)):
            self.serverProperties = start.serverProperties
            let mechanisms = String(decoding: start.mechanisms, as: UTF8.self).split(separator: " ")
            guard mechanisms.contains("PLAIN") else {
                throw AMQPClientError(.handshakeFailed, "server offers no PLAIN mechanism (\(mechanisms))")
            }
            let response = [0] + Array(self.configuration.user.utf8) + [0] + Array(self.configuration.password.utf8)
            self.phase = .awaitingTune
            self.send(.connectionStartOk(ConnectionStartOk(clientProperties: self.clientProperties, mechanism: "PLAIN",
                                                           response: response, locale: "en_US")), channel: 0)
        case (.awaitingTune, .connectionTune(let tune)):
            self.channelMax = Self.negotiate(self.configuration.channelMax, tune.channelMax)
            self.frameMax = Self.negotiate(self.configuration.frameMax, tune.frameMax)
            self.heartbeat = self.configuration.heartbeat == 0 ? 0 : Self.negotiate(self.configuration.heartbeat, tune.heartbeat)
            self.scanner.maxFrameSize = self.frameMax
            self.phase = .awaitingOpenOk
            self.send(.connectionTuneOk(ConnectionTuneOk(channelMax: self.channelMax, frameMax: self.frameMax,
                                                         heartbeat: self.heartbeat)), channel: 0)
            self.send(.connectionOpen(ConnectionOpen(virtualHost: self.configuration.virtualHost)), channel: 0)
        case (.awaitingOpenOk, .connectionOpenOk):
            self.phase = .open
            self.startHeartbeats()
            self.finishHandshake(.success(()))
        case (_, .connectionClose(let close)):
            self.send(.connectionCloseOk(ConnectionCloseOk()), channel: 0)
            let code: AMQPClientError.Code = self.phase == .open || self.phase == .closing
                ? .connectionClosedByServer : .handshakeFailed
            self.terminate(AMQPClientError(code, replyCode: close.replyCode, close.replyText,
                                           classID: close.classID, methodID: close.methodID), flush: true)
        case (.closing, .connectionCloseOk):
            self.terminate(AMQPClientError(.connectionClosed, "closed by client"))
        case (.open, .connectionBlocked(let blocked)), (.closing, .connectionBlocked(let blocked)):
            self.isBlocked = true
            self.blocked.push(.blocked(reason: blocked.reason))
        case (.open, .connectionUnblocked), (.closing, .connectionUnblocked):
            self.isBlocked = false
            self.blocked.push(.unblocked)
        case (.open, .connectionUpdateSecretOk), (.closing, _):
            break
        default:
            throw .protocolViolation("unexpected \(method.name) on channel 0")
        }
    }

    /// The smaller of two limits where 0 means "no limit".
    static func negotiate<T: FixedWidthInteger>(_ client: T, _ server: T) -> T {
        if client == 0 { return server }
        if server == 0 { return client }
        return min(client, server)
    }

    /// Sends a heartbeat every half interval while the connection is open, and drops the connection
    /// when nothing at all arrived for two intervals (the spec's rule for a dead peer).
    func startHeartbeats() {
        guard self.heartbeat > 0 else { return }
        let interval = Duration.milliseconds(Int(self.heartbeat) * 500)
        let silenceLimit = UInt64(self.heartbeat) * 2_000_000_000
        self.heartbeatTask = Task {
            var lastSeen = self.receivedChunks
            var lastChange = ContinuousClock.now
            while self.phase == .open || self.phase == .closing {
                do {
                    try await self.loop.sleep(for: interval)
                } catch {
                    return
                }
                guard self.phase == .open || self.phase == .closing else { return }
                self.scratch.clear()
                self.scratch.writeHeartbeat()
                self.writeScratch()
                let now = ContinuousClock.now
                if self.receivedChunks != lastSeen || self.isReaderPaused {
                    // Paused for a slow consumer, the reader does not read: silence is ours, not the server's.
                    lastSeen = self.receivedChunks
                    lastChange = now
                } else if now - lastChange >= .nanoseconds(Int64(silenceLimit)) {
                    self.terminate(.transport("no frame from the server for \(self.heartbeat * 2) s (missed heartbeats)"))
                    return
                }
            }
        }
    }
}

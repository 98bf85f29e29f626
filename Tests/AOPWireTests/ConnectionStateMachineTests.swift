import AOPWire
import Testing

@Suite struct ConnectionStateMachineTests {
    static let serverTuning = Tuning(channelMax: 2047, frameMax: 131_072, heartbeat: 60)

    func makeMachine() -> ConnectionStateMachine {
        ConnectionStateMachine(configuration: .init(serverProperties: ["product": "aop"], tuning: Self.serverTuning))
    }

    func plain(_ user: String, _ pass: String) -> [UInt8] {
        [0] + Array(user.utf8) + [0] + Array(pass.utf8)
    }

    /// Drives a machine up to the open state.
    func openMachine() -> ConnectionStateMachine {
        var m = self.makeMachine()
        _ = m.protocolHeaderReceived(.ok)
        _ = m.methodReceived(.connectionStartOk(.init(clientProperties: [:], mechanism: "PLAIN",
                                                      response: self.plain("guest", "guest"), locale: "en_US")))
        _ = m.authenticated(username: "guest")
        _ = m.methodReceived(.connectionTuneOk(.init(channelMax: 100, frameMax: 8192, heartbeat: 5)))
        _ = m.methodReceived(.connectionOpen(.init(virtualHost: "/")))
        _ = m.virtualHostOpened(name: "/")
        return m
    }

    @Test func happyHandshake() {
        var m = self.makeMachine()
        #expect(m.isHandshaking)
        guard case .sendStart(let start) = m.protocolHeaderReceived(.ok) else {
            Issue.record("expected connection.start")
            return
        }
        #expect(start.versionMajor == 0 && start.versionMinor == 9)
        #expect(String(decoding: start.mechanisms, as: UTF8.self) == "PLAIN AMQPLAIN")
        #expect(start.serverProperties["product"] == "aop")

        let auth = m.methodReceived(.connectionStartOk(.init(
            clientProperties: [:], mechanism: "PLAIN", response: self.plain("guest", "secret"), locale: "en_US"
        )))
        #expect(auth == .authenticate(mechanism: "PLAIN", credentials: .init(username: "guest", password: "secret")))
        #expect(m.authenticated(username: "guest") == .sendTune(.init(channelMax: 2047, frameMax: 131_072, heartbeat: 60)))
        #expect(m.methodReceived(.connectionTuneOk(.init(channelMax: 0, frameMax: 0, heartbeat: 10)))
            == .tuned(.init(channelMax: 2047, frameMax: 131_072, heartbeat: 10)))
        #expect(m.methodReceived(.connectionOpen(.init(virtualHost: "/"))) == .openVirtualHost("/"))
        #expect(m.virtualHostOpened(name: "/") == .sendOpenOk)
        #expect(m.isOpen)
        #expect(!m.isHandshaking)
        #expect(m.username == "guest")
        #expect(m.virtualHost == "/")
    }

    @Test func tuneNegotiatesTheLowerNonZeroValues() {
        var m = self.makeMachine()
        _ = m.protocolHeaderReceived(.ok)
        _ = m.methodReceived(.connectionStartOk(.init(mechanism: "PLAIN", response: self.plain("a", "b"), locale: "en_US")))
        _ = m.authenticated(username: "a")
        #expect(m.methodReceived(.connectionTuneOk(.init(channelMax: 10, frameMax: 4096, heartbeat: 0)))
            == .tuned(.init(channelMax: 10, frameMax: 4096, heartbeat: 0)))
    }

    @Test func frameMaxBelowMinimumIsRefused() {
        var m = self.makeMachine()
        _ = m.protocolHeaderReceived(.ok)
        _ = m.methodReceived(.connectionStartOk(.init(mechanism: "PLAIN", response: self.plain("a", "b"), locale: "en_US")))
        _ = m.authenticated(username: "a")
        guard case .sendClose(let error) = m.methodReceived(.connectionTuneOk(.init(channelMax: 0, frameMax: 1024, heartbeat: 0))) else {
            Issue.record("expected close")
            return
        }
        #expect(error.code == .notAllowed)
        #expect(m.isClosing)
    }

    @Test func frameMaxAboveServerMaximumIsRefused() {
        var m = self.makeMachine()
        _ = m.protocolHeaderReceived(.ok)
        _ = m.methodReceived(.connectionStartOk(.init(mechanism: "PLAIN", response: self.plain("a", "b"), locale: "en_US")))
        _ = m.authenticated(username: "a")
        guard case .sendClose(let error) = m.methodReceived(.connectionTuneOk(.init(channelMax: 0, frameMax: 1 << 20, heartbeat: 0))) else {
            Issue.record("expected close")
            return
        }
        #expect(error.code.replyCode == 530)
    }

    @Test func wrongProtocolHeaderAnswersWithOursAndCloses() {
        var m = self.makeMachine()
        #expect(m.protocolHeaderReceived(.needMore) == .none)
        #expect(m.protocolHeaderReceived(.mismatch) == .sendProtocolHeaderAndClose)
        #expect(m.isClosing)
    }

    @Test func amqplainCredentials() {
        var table = ByteBuffer()
        table.writeFieldTable(["LOGIN": "bob", "PASSWORD": "pw"])
        let response = Array(table.readableBytesArray.dropFirst(4))  // AMQPLAIN has no length prefix
        var m = self.makeMachine()
        _ = m.protocolHeaderReceived(.ok)
        #expect(m.methodReceived(.connectionStartOk(.init(mechanism: "AMQPLAIN", response: response, locale: "en_US")))
            == .authenticate(mechanism: "AMQPLAIN", credentials: .init(username: "bob", password: "pw")))
    }

    @Test func unknownMechanismIsAccessRefused() {
        var m = self.makeMachine()
        _ = m.protocolHeaderReceived(.ok)
        guard case .sendClose(let error) = m.methodReceived(.connectionStartOk(.init(mechanism: "EXTERNAL", response: [], locale: "en_US"))) else {
            Issue.record("expected close")
            return
        }
        #expect(error.code.replyCode == 403)
        #expect(error.code.closesConnection)
    }

    @Test func malformedPlainIsAccessRefused() {
        var m = self.makeMachine()
        _ = m.protocolHeaderReceived(.ok)
        guard case .sendClose(let error) = m.methodReceived(.connectionStartOk(.init(mechanism: "PLAIN", response: Array("nonul".utf8), locale: "en_US"))) else {
            Issue.record("expected close")
            return
        }
        #expect(error.code.replyCode == 403)
    }

    @Test func badCredentialsCloseWith403ThenCloseOkClosesSocket() {
        var m = self.makeMachine()
        _ = m.protocolHeaderReceived(.ok)
        _ = m.methodReceived(.connectionStartOk(.init(mechanism: "PLAIN", response: self.plain("guest", "nope"), locale: "en_US")))
        let refused = AMQPError(.connectionAccessRefused, "Login was refused")
        #expect(m.authenticationFailed(refused) == .sendClose(refused))
        // Frames other than close/close-ok are discarded while closing.
        #expect(m.methodReceived(.connectionTuneOk(.init(channelMax: 0, frameMax: 0, heartbeat: 0))) == .none)
        #expect(m.methodReceived(.connectionCloseOk(.init())) == .closeSocket)
    }

    @Test func unknownVirtualHostIsNotAllowed() {
        var m = self.makeMachine()
        _ = m.protocolHeaderReceived(.ok)
        _ = m.methodReceived(.connectionStartOk(.init(mechanism: "PLAIN", response: self.plain("a", "b"), locale: "en_US")))
        _ = m.authenticated(username: "a")
        _ = m.methodReceived(.connectionTuneOk(.init(channelMax: 0, frameMax: 0, heartbeat: 0)))
        #expect(m.methodReceived(.connectionOpen(.init(virtualHost: "nope"))) == .openVirtualHost("nope"))
        let error = AMQPError(.notAllowed, "vhost nope not found")
        #expect(m.virtualHostRejected(error) == .sendClose(error))
        #expect(!m.isOpen)
    }

    @Test func methodOutOfOrderIsCommandInvalid() {
        var m = self.makeMachine()
        _ = m.protocolHeaderReceived(.ok)
        guard case .sendClose(let error) = m.methodReceived(.connectionOpen(.init(virtualHost: "/"))) else {
            Issue.record("expected close")
            return
        }
        #expect(error.code.replyCode == 503)
        #expect(error.classID == 10 && error.methodID == 40)
    }

    @Test func clientCloseIsAnsweredWithCloseOk() {
        var m = self.openMachine()
        #expect(m.methodReceived(.connectionClose(.init(replyCode: 200, replyText: "bye", classID: 0, methodID: 0))) == .sendCloseOkAndClose)
        #expect(m.isClosing)
    }

    @Test func serverCloseWaitsForCloseOk() {
        var m = self.openMachine()
        #expect(m.closeRequested(reason: "shutdown") == .sendClose(.init(.connectionForced, "shutdown")))
        #expect(m.closeRequested(reason: "again") == .none)
        #expect(m.methodReceived(.channelOpen(.init())) == .none)
        #expect(m.methodReceived(.connectionCloseOk(.init())) == .closeSocket)
    }

    @Test func crossingClosesFinish() {
        var m = self.openMachine()
        _ = m.closeRequested(reason: "shutdown")
        #expect(m.methodReceived(.connectionClose(.init(replyCode: 200, replyText: "", classID: 0, methodID: 0))) == .sendCloseOkAndClose)
    }

    @Test func hardErrorWhileOpen() {
        var m = self.openMachine()
        let error = AMQPError.frameError("bad frame")
        #expect(m.errorOccurred(error) == .sendClose(error))
        #expect(m.errorOccurred(error) == .closeSocket)
    }

    @Test func updateSecret() {
        var m = self.openMachine()
        #expect(m.methodReceived(.connectionUpdateSecret(.init(newSecret: [1, 2], reason: "r"))) == .updateSecret(newSecret: [1, 2]))
        #expect(m.updateSecretResult(nil) == .sendUpdateSecretOk)
    }

    @Test func unexpectedMethodOnChannelZeroWhenOpen() {
        var m = self.openMachine()
        guard case .sendClose(let error) = m.methodReceived(.queueDeclare(.init(queue: "q"))) else {
            Issue.record("expected close")
            return
        }
        #expect(error.code.replyCode == 503)
    }
}

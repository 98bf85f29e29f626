import Logging
import AOPIO
import AOPWire

extension AMQPConnection {
    func handleConnectionMethod(_ method: AMQPMethod) async {
        if case .connectionStartOk(let startOk) = method {
            self.clientCapabilities = startOk.clientProperties["capabilities"]?.tableValue ?? [:]
            if let name = startOk.clientProperties["connection_name"]?.stringValue {
                self.logger[metadataKey: "name"] = "\(name)"
            }
        }
        let action = self.machine.methodReceived(method)
        await self.perform(action)
    }

    /// Runs an action, including those that need async work (vhost lookup).
    func perform(_ action: ConnectionStateMachine.Action) async {
        switch action {
        case .openVirtualHost(let name):
            let username = self.machine.username ?? ""
            let vhost = self.broker.virtualHosts[name]
            if let error = self.broker.authenticator.authorize(username: username, virtualHost: name, exists: vhost != nil) {
                self.execute(self.machine.virtualHostRejected(error))
                return
            }
            self.virtualHost = vhost
            self.logger[metadataKey: "vhost"] = "\(name)"
            self.execute(self.machine.virtualHostOpened(name: name))
            if self.broker.alarms.isBlocked { self.notifyBlocked(true) }
        default:
            self.execute(action)
        }
    }

    /// Runs a synchronous action of the connection state machine.
    func execute(_ action: ConnectionStateMachine.Action) {
        switch action {
        case .none:
            break
        case .sendStart(let start):
            self.send { $0.writeMethodFrame(channel: 0, .connectionStart(start)) }
        case .sendProtocolHeaderAndClose:
            self.send { $0.writeBytes(ProtocolHeader.bytes) }
            self.closeSocket()
        case .authenticate(let mechanism, let credentials):
            let error = self.broker.authenticator.authenticate(
                credentials, mechanism: mechanism, fromLoopback: self.socket.isLoopback
            )
            if let error {
                self.logger.info("authentication failed for user '\(credentials.username)'")
                self.execute(self.machine.authenticationFailed(error))
            } else {
                self.logger[metadataKey: "user"] = "\(credentials.username)"
                self.execute(self.machine.authenticated(username: credentials.username))
            }
        case .sendTune(let tune):
            self.send { $0.writeMethodFrame(channel: 0, .connectionTune(tune)) }
        case .tuned(let tuning):
            self.tuning = tuning
            self.decoder.maxFrameSize = tuning.frameMax == 0 ? UInt32.max : tuning.frameMax
        case .openVirtualHost:
            preconditionFailure("openVirtualHost is async; use perform(_:)")
        case .sendOpenOk:
            self.send { $0.writeMethodFrame(channel: 0, .connectionOpenOk(ConnectionOpenOk())) }
            self.handshakeCompleted()
        case .sendClose(let error):
            self.send { $0.writeMethodFrame(channel: 0, .connectionClose(error.connectionClose)) }
            self.flush()
            self.startCloseTimeout()
        case .sendCloseOkAndClose:
            self.send { $0.writeMethodFrame(channel: 0, .connectionCloseOk(ConnectionCloseOk())) }
            self.closeSocket()
        case .closeSocket:
            self.closeSocket()
        case .sendUpdateSecretOk:
            self.send { $0.writeMethodFrame(channel: 0, .connectionUpdateSecretOk(ConnectionUpdateSecretOk())) }
        case .updateSecret(let secret):
            let credentials = SASLCredentials(
                username: self.machine.username ?? "", password: String(decoding: secret, as: UTF8.self)
            )
            var error = self.broker.authenticator.authenticate(credentials, mechanism: "PLAIN",
                                                               fromLoopback: self.socket.isLoopback)
            if error != nil {
                error = AMQPError(.notAllowed, "update-secret refused: new secret is not valid for the user",
                                  classID: 10, methodID: 70)
            }
            self.execute(self.machine.updateSecretResult(error))
        }
    }

    /// A peer that never answers our connection.close is disconnected after a while.
    func startCloseTimeout() {
        Task {
            try? await self.socket.loop.sleep(for: .seconds(3))
            if !self.closed { self.closeSocket() }
        }
    }

    /// connection.blocked / unblocked, to clients that announced the capability.
    func notifyBlocked(_ blocked: Bool) {
        guard self.machine.isOpen, self.clientCapabilities["connection.blocked"]?.boolValue == true,
              blocked != self.blockedNotified
        else { return }
        self.blockedNotified = blocked
        if blocked {
            let reason = self.broker.alarms.reason
            self.send { $0.writeMethodFrame(channel: 0, .connectionBlocked(ConnectionBlocked(reason: reason))) }
        } else {
            self.send { $0.writeMethodFrame(channel: 0, .connectionUnblocked(ConnectionUnblocked())) }
        }
        self.flush()
    }
}

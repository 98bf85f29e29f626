/// The connection-level handshake and close protocol as a pure state machine (no I/O).
///
/// The connection actor feeds it events (bytes of the protocol header, connection-class methods, results of
/// authentication and vhost lookups, errors) and executes the returned ``Action``. Channel frames are
/// handled elsewhere once ``isOpen`` is true.
public struct ConnectionStateMachine: Sendable {
    public struct Configuration: Sendable {
        public var serverProperties: FieldTable
        /// Server maxima offered in connection.tune.
        public var tuning: Tuning
        public var mechanisms: [String]
        public init(serverProperties: FieldTable, tuning: Tuning, mechanisms: [String] = SASL.supportedMechanisms) {
            self.serverProperties = serverProperties
            self.tuning = tuning
            self.mechanisms = mechanisms
        }
    }

    enum State: Sendable {
        case awaitingProtocolHeader
        case awaitingStartOk
        case authenticating
        case awaitingTuneOk(user: String)
        case awaitingOpen(user: String)
        case openingVirtualHost(user: String)
        case open(user: String, virtualHost: String)
        /// We sent connection.close and discard everything until close-ok.
        case closing
        case closed
    }

    public enum Action: Sendable, Hashable {
        case sendStart(ConnectionStart)
        /// Wrong protocol header: reply with ours and close the socket (spec 4.2.2).
        case sendProtocolHeaderAndClose
        /// Check these credentials; answer with ``authenticated(username:)`` or ``authenticationFailed(_:)``.
        case authenticate(mechanism: String, credentials: SASLCredentials)
        case sendTune(ConnectionTune)
        /// Apply the negotiated limits (decoder frame-max, heartbeat timers).
        case tuned(Tuning)
        /// Look the vhost up; answer with ``virtualHostOpened()`` or ``virtualHostRejected(_:)``.
        case openVirtualHost(String)
        case sendOpenOk
        /// Send connection.close with this error, then wait for close-ok.
        case sendClose(AMQPError)
        case sendCloseOkAndClose
        case sendUpdateSecretOk
        /// Re-check a secret sent with connection.update-secret.
        case updateSecret(newSecret: [UInt8])
        case closeSocket
        case none
    }

    let configuration: Configuration
    var state: State = .awaitingProtocolHeader
    var clientTuning: Tuning?

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// True once connection.open-ok was sent and until a close starts: channel frames may flow.
    public var isOpen: Bool {
        if case .open = self.state { return true }
        return false
    }

    public var isClosing: Bool {
        switch self.state {
        case .closing, .closed: return true
        default: return false
        }
    }

    /// True before connection.open-ok (the handshake timeout applies).
    public var isHandshaking: Bool {
        switch self.state {
        case .awaitingProtocolHeader, .awaitingStartOk, .authenticating, .awaitingTuneOk, .awaitingOpen,
             .openingVirtualHost:
            return true
        case .open, .closing, .closed:
            return false
        }
    }

    public var username: String? {
        switch self.state {
        case .awaitingTuneOk(let u), .awaitingOpen(let u), .openingVirtualHost(let u), .open(let u, _): return u
        default: return nil
        }
    }

    public var virtualHost: String? {
        if case .open(_, let v) = self.state { return v }
        return nil
    }

    // MARK: events

    public mutating func protocolHeaderReceived(_ check: ProtocolHeaderCheck) -> Action {
        guard case .awaitingProtocolHeader = self.state else { return .none }
        switch check {
        case .needMore:
            return .none
        case .mismatch:
            self.state = .closed
            return .sendProtocolHeaderAndClose
        case .ok:
            self.state = .awaitingStartOk
            return .sendStart(ConnectionStart(
                versionMajor: 0, versionMinor: 9,
                serverProperties: self.configuration.serverProperties,
                mechanisms: Array(self.configuration.mechanisms.joined(separator: " ").utf8),
                locales: Array("en_US".utf8)
            ))
        }
    }

    /// A method on channel 0. Non-connection methods on channel 0 are errors.
    public mutating func methodReceived(_ method: AMQPMethod) -> Action {
        switch self.state {
        case .closed:
            return .none
        case .closing:
            switch method {
            case .connectionCloseOk:
                self.state = .closed
                return .closeSocket
            case .connectionClose:
                // Both sides closed at once: answer and finish.
                self.state = .closed
                return .sendCloseOkAndClose
            default:
                return .none  // discarded until close-ok (spec 4.2.2 / 2.2.4)
            }
        default:
            break
        }

        switch method {
        case .connectionClose:
            self.state = .closed
            return .sendCloseOkAndClose
        case .connectionCloseOk:
            // close-ok without our close.
            return self.fail(.init(.commandInvalid, "unexpected connection.close-ok"))
        default:
            break
        }

        switch self.state {
        case .awaitingStartOk:
            guard case .connectionStartOk(let startOk) = method else {
                return self.fail(self.unexpected(method, expected: "connection.start-ok"))
            }
            guard self.configuration.mechanisms.contains(startOk.mechanism) else {
                return self.fail(.init(
                    .connectionAccessRefused,
                    "unsupported authentication mechanism '\(startOk.mechanism)'",
                    classID: 10, methodID: 11
                ))
            }
            guard let credentials = SASL.parse(mechanism: startOk.mechanism, response: startOk.response) else {
                return self.fail(.init(
                    .connectionAccessRefused, "malformed \(startOk.mechanism) response", classID: 10, methodID: 11
                ))
            }
            self.state = .authenticating
            return .authenticate(mechanism: startOk.mechanism, credentials: credentials)

        case .awaitingTuneOk(let user):
            guard case .connectionTuneOk(let tuneOk) = method else {
                return self.fail(self.unexpected(method, expected: "connection.tune-ok"))
            }
            let server = self.configuration.tuning
            if tuneOk.frameMax != 0 && tuneOk.frameMax < Tuning.minimumFrameMax {
                return self.fail(.init(.notAllowed, "frame_max=\(tuneOk.frameMax) < \(Tuning.minimumFrameMax) min size",
                                       classID: 10, methodID: 31))
            }
            if server.frameMax != 0 && tuneOk.frameMax > server.frameMax {
                return self.fail(.init(.notAllowed, "frame_max=\(tuneOk.frameMax) > \(server.frameMax) max size",
                                       classID: 10, methodID: 31))
            }
            if server.channelMax != 0 && tuneOk.channelMax > server.channelMax {
                return self.fail(.init(.notAllowed, "channel_max=\(tuneOk.channelMax) > \(server.channelMax) max value",
                                       classID: 10, methodID: 31))
            }
            let tuning = Tuning(
                channelMax: Tuning.negotiate(server: server.channelMax, client: tuneOk.channelMax),
                frameMax: Tuning.negotiate(server: server.frameMax, client: tuneOk.frameMax),
                heartbeat: tuneOk.heartbeat  // the client's answer is final (RabbitMQ takes it as is)
            )
            self.clientTuning = tuning
            self.state = .awaitingOpen(user: user)
            return .tuned(tuning)

        case .awaitingOpen(let user):
            guard case .connectionOpen(let open) = method else {
                return self.fail(self.unexpected(method, expected: "connection.open"))
            }
            self.state = .openingVirtualHost(user: user)
            return .openVirtualHost(open.virtualHost)

        case .open:
            switch method {
            case .connectionUpdateSecret(let update):
                return .updateSecret(newSecret: update.newSecret)
            case .connectionBlocked, .connectionUnblocked:
                // Client-sent blocked notifications are allowed by RabbitMQ's extension; nothing to do.
                return .none
            default:
                return self.fail(.init(
                    .commandInvalid, "unexpected method \(method.name) on channel 0",
                    classID: method.classID, methodID: method.methodID
                ))
            }

        case .awaitingProtocolHeader, .authenticating, .openingVirtualHost:
            return self.fail(self.unexpected(method, expected: "no method while the server is working"))

        case .closing, .closed:
            return .none
        }
    }

    public mutating func authenticated(username: String) -> Action {
        guard case .authenticating = self.state else { return .none }
        self.state = .awaitingTuneOk(user: username)
        let t = self.configuration.tuning
        return .sendTune(ConnectionTune(channelMax: t.channelMax, frameMax: t.frameMax, heartbeat: t.heartbeat))
    }

    public mutating func authenticationFailed(_ error: AMQPError) -> Action {
        guard case .authenticating = self.state else { return .none }
        return self.fail(error)
    }

    public mutating func virtualHostOpened(name: String) -> Action {
        guard case .openingVirtualHost(let user) = self.state else { return .none }
        self.state = .open(user: user, virtualHost: name)
        return .sendOpenOk
    }

    public mutating func virtualHostRejected(_ error: AMQPError) -> Action {
        guard case .openingVirtualHost = self.state else { return .none }
        return self.fail(error)
    }

    public mutating func updateSecretResult(_ error: AMQPError?) -> Action {
        guard case .open = self.state else { return .none }
        if let error { return self.fail(error) }
        return .sendUpdateSecretOk
    }

    /// A hard error detected anywhere (codec, channel layer): close the connection with it.
    public mutating func errorOccurred(_ error: AMQPError) -> Action {
        switch self.state {
        case .closing, .closed:
            self.state = .closed
            return .closeSocket
        case .awaitingProtocolHeader:
            self.state = .closed
            return .closeSocket
        default:
            return self.fail(error)
        }
    }

    /// The server is shutting down (or an operator closed the connection): connection.close 320.
    public mutating func closeRequested(reason: String) -> Action {
        switch self.state {
        case .closing, .closed:
            return .none
        case .awaitingProtocolHeader:
            self.state = .closed
            return .closeSocket
        default:
            return self.fail(.init(.connectionForced, reason))
        }
    }

    /// The peer went away (EOF, reset, missed heartbeats).
    public mutating func socketClosed() {
        self.state = .closed
    }

    // MARK: helpers

    mutating func fail(_ error: AMQPError) -> Action {
        self.state = .closing
        return .sendClose(error)
    }

    func unexpected(_ method: AMQPMethod, expected: String) -> AMQPError {
        .init(.commandInvalid, "expected \(expected), got \(method.name)", classID: method.classID, methodID: method.methodID)
    }
}

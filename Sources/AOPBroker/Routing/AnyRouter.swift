public import AOPWire

/// A router of any exchange type as an enum, not an existential: calls dispatch with a `switch`
/// (no witness-table call, no boxing, the payload stays inline), and the type stays a plain
/// `Sendable` value an exchange actor can own. Mutations move the payload out first so a bind never
/// copies the table (see `mutate`).
public enum AnyRouter: Router {
    case direct(DirectRouter)
    case fanout(FanoutRouter)
    case topic(TopicRouter)
    case headers(HeadersRouter)

    /// An empty router for the exchange type.
    public init(_ type: ExchangeType) {
        switch type {
        case .direct: self = .direct(DirectRouter())
        case .fanout: self = .fanout(FanoutRouter())
        case .topic: self = .topic(TopicRouter())
        case .headers: self = .headers(HeadersRouter())
        }
    }

    public var type: ExchangeType {
        switch self {
        case .direct: return .direct
        case .fanout: return .fanout
        case .topic: return .topic
        case .headers: return .headers
        }
    }

    public mutating func bind(_ binding: Binding) -> Bool {
        self.apply(.bind(binding)) == 1
    }

    public mutating func unbind(_ binding: Binding) -> Bool {
        self.apply(.unbind(binding)) == 1
    }

    public mutating func unbindAll(destination: Destination) -> Int {
        self.apply(.unbindAll(destination))
    }

    public func route(routingKey: String, headers: FieldTable?) -> Set<Destination> {
        switch self {
        case .direct(let r): return r.route(routingKey: routingKey, headers: headers)
        case .fanout(let r): return r.route(routingKey: routingKey, headers: headers)
        case .topic(let r): return r.route(routingKey: routingKey, headers: headers)
        case .headers(let r): return r.route(routingKey: routingKey, headers: headers)
        }
    }

    public var bindings: [Binding] {
        switch self {
        case .direct(let r): return r.bindings
        case .fanout(let r): return r.bindings
        case .topic(let r): return r.bindings
        case .headers(let r): return r.bindings
        }
    }

    public var isEmpty: Bool {
        switch self {
        case .direct(let r): return r.isEmpty
        case .fanout(let r): return r.isEmpty
        case .topic(let r): return r.isEmpty
        case .headers(let r): return r.isEmpty
        }
    }

    public func validate(_ binding: Binding) throws(AMQPError) {
        if case .headers(let r) = self { try r.validate(binding) }
    }

    private enum Mutation {
        case bind(Binding)
        case unbind(Binding)
        case unbindAll(Destination)
    }

    private static func apply<R: Router>(_ mutation: Mutation, to router: inout R) -> Int {
        switch mutation {
        case .bind(let b): return router.bind(b) ? 1 : 0
        case .unbind(let b): return router.unbind(b) ? 1 : 0
        case .unbindAll(let d): return router.unbindAll(destination: d)
        }
    }

    /// Applies a mutation with `self` holding an empty placeholder meanwhile, so the payload is
    /// uniquely referenced and mutated in place (leaving it in `self` would keep a second reference
    /// and copy the whole table on every bind).
    private mutating func apply(_ mutation: Mutation) -> Int {
        switch self {
        case .direct(var r):
            self = .fanout(FanoutRouter())
            let n = Self.apply(mutation, to: &r)
            self = .direct(r)
            return n
        case .fanout(var r):
            self = .fanout(FanoutRouter())
            let n = Self.apply(mutation, to: &r)
            self = .fanout(r)
            return n
        case .topic(var r):
            self = .fanout(FanoutRouter())
            let n = Self.apply(mutation, to: &r)
            self = .topic(r)
            return n
        case .headers(var r):
            self = .fanout(FanoutRouter())
            let n = Self.apply(mutation, to: &r)
            self = .headers(r)
            return n
        }
    }
}

/// An empty router for an exchange type. Prefer `AnyRouter` where the type is stored; this returns
/// the same value as an existential for code that wants `any Router`.
public func makeRouter(_ type: ExchangeType) -> any Router {
    AnyRouter(type)
}

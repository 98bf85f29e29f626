import AOPWire

/// A binding's identity as RabbitMQ keys it: destination, binding key compared byte for byte, and the
/// arguments sorted by key (`rabbit_binding:sort_args`). Two binds with the same identity are one
/// binding; different arguments make a different binding.
struct BindingID: Hashable, Sendable {
    var destination: Destination
    var key: ExactString
    var arguments: FieldTable

    init(_ binding: Binding) {
        self.destination = binding.destination
        self.key = ExactString(binding.routingKey)
        self.arguments = binding.arguments.sortedByKey()
    }

    /// The normalized binding (arguments sorted), as listed.
    var binding: Binding {
        Binding(destination: self.destination, routingKey: self.key.string, arguments: self.arguments)
    }
}

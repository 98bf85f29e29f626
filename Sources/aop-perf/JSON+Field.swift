extension JSON {
    /// The value at a path of object keys (null when missing).
    func field(_ path: String...) -> JSON {
        var value = self
        for key in path {
            guard case .object(let fields) = value, let found = fields.first(where: { $0.0 == key }) else { return .null }
            value = found.1
        }
        return value
    }
}

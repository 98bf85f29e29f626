public import AOPWire

extension HeadersRouter {
    /// Checks a headers binding's arguments as RabbitMQ's `validate_binding` does: `x-match`, when
    /// present, must be a long string naming a mode. The bind then fails with 406 PRECONDITION_FAILED
    /// (RabbitMQ turns `binding_invalid` into a `precondition_failed` channel error) and the same text:
    /// `Invalid x-match field value <<"foo">>; expected all, any, all-with-x, or any-with-x`, or for a
    /// value of another type `Invalid x-match field type signedint (value 5); expected longstr`.
    public static func validate(arguments: FieldTable) throws(AMQPError) {
        guard let value = arguments["x-match"] else { return }
        guard case .longString(let bytes) = value else {
            throw .preconditionFailed(
                "Invalid x-match field type \(value.erlangTypeName) (value \(ErlangFormat.value(value))); expected longstr")
        }
        if HeadersMatch.allCases.contains(where: { Array($0.rawValue.utf8) == bytes }) { return }
        throw .preconditionFailed(
            "Invalid x-match field value \(ErlangFormat.binary(bytes)); expected all, any, all-with-x, or any-with-x")
    }
}

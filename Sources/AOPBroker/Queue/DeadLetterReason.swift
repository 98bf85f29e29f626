/// Why a message left a queue through the dead-letter path (the `reason` of its x-death entry).
enum DeadLetterReason: String, Sendable, Hashable {
    case rejected, expired, maxlen
}

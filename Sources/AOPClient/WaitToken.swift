/// Identifies one waiting `next` call on a ``LoopQueue``, so that its cancellation (handled later, on the
/// loop) wakes that call only and never a later one.
final class WaitToken: Sendable {}

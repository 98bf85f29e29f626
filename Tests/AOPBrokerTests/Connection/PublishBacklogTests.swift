@testable import AOPBroker
import Testing

@Suite struct PublishBacklogTests {
    @Test func manySmallPublishesFillTheBacklogByCount() {
        #expect(!AMQPConnection.publishBacklogIsFull(count: AMQPConnection.maxQueuedPublishes, bytes: 0))
        #expect(AMQPConnection.publishBacklogIsFull(count: AMQPConnection.maxQueuedPublishes + 1, bytes: 0))
    }

    @Test func fewLargePublishesFillTheBacklogByBytes() {
        // 20 bodies of 1 MiB: far below the count limit, but the connection must stop reading.
        #expect(AMQPConnection.publishBacklogIsFull(count: 20, bytes: 20 * 1024 * 1024))
        #expect(!AMQPConnection.publishBacklogIsFull(count: 20, bytes: AMQPConnection.maxQueuedPublishBytes))
    }
}

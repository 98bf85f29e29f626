import ArgumentParser

/// `aop-perf`: a load tool for AMQP 0-9-1 brokers, with a null broker to measure its own ceiling.
@main
struct AOPPerf: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aop-perf",
        abstract: "Load generator for AMQP 0-9-1 brokers (aop, RabbitMQ, …).",
        subcommands: [RunCommand.self, NullBrokerCommand.self, SelfTestCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

import AOPClient
import ArgumentParser
import Glibc

/// The default command: a load run against a broker.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Publish and consume against a broker; JSON summary on stdout.")

    @OptionGroup var options: PerfOptions

    func run() async throws {
        tuneMalloc()
        let summary = await PerfRun(options: self.options).execute()
        printOutput(summary.json.text)
        if !summary.errors.isEmpty { throw ExitCode(1) }
    }
}

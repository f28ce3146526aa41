import Glibc

/// The executable parses flags and wires modules together; the work lives in the libraries.
let arguments = CommandLine.arguments.dropFirst()
let topUsage = """
    usage: pod-security-webhook <command> [flags]
      serve     run the admission webhook server (see `serve --help`)
      check     evaluate manifests offline against a Pod Security Standard (see `check --help`)
      version   print the version
    """

switch arguments.first {
case "check":
    exit(CheckCommand.run(arguments.dropFirst()))
case "serve":
    exit(ServeCommand.run(arguments.dropFirst()))
case "version", "--version":
    Output.write("pod-security-webhook \(BuildInfo.version) (Pod Security Standards up to \(BuildInfo.newestPolicyVersion))")
    exit(0)
case "-h", "--help", "help":
    Output.write(topUsage)
    exit(0)
case let other?:
    Output.error("error: unknown command \(other.debugDescription)\n\n\(topUsage)")
    exit(2)
case nil:
    Output.error(topUsage)
    exit(2)
}

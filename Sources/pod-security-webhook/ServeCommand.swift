/// `pod-security-webhook serve [flags]`: filled in when the server lands.
enum ServeCommand {
    static func run(_ arguments: ArraySlice<String>) -> Int32 {
        Output.error("serve: not yet wired")
        return 2
    }
}

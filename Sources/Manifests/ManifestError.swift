/// Why a manifest could not be read: names the source (file or `-`), the document and, when known, the line.
public struct ManifestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file as named by the caller (`-` for stdin).
    public var source: String
    /// 1-based document within the source (YAML `---` separated, or JSON values one after another).
    public var documentNumber: Int
    /// 1-based line and column within the whole source, when the reader knows them.
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(source: String, documentNumber: Int, line: Int? = nil, column: Int? = nil, message: String) {
        self.source = source
        self.documentNumber = documentNumber
        self.line = line
        self.column = column
        self.message = message
    }

    /// `deploy.yaml: document 2 (line 14, column 3): did not find expected key`.
    public var description: String {
        var text = "\(source): document \(documentNumber)"
        if let line {
            text += " (line \(line)"
            if let column { text += ", column \(column)" }
            text += ")"
        }
        return text + ": " + message
    }
}

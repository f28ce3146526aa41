// Building a denial's text: details, reasons and messages run to hundreds of bytes, and interpolation or `+=`
// grows, re-checks and copies the string at every piece (about 450 instructions a piece, measured). These
// write the pieces straight into one string allocated at its final length (about 150).

/// Writes strings end to end into the storage of a string being created (`String(capacity:writing:)`).
package struct UTF8Writer: ~Copyable {
    @usableFromInline let buffer: UnsafeMutableBufferPointer<UInt8>
    @usableFromInline var written = 0

    fileprivate init(buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    /// The bytes written so far.
    package var count: Int { written }

    /// Inlined where it is called: a literal's few bytes are then stored directly, without a call to `memcpy`.
    @inlinable @inline(__always)
    package mutating func write(_ text: String) {
        // The string's own storage, read in place (`withUTF8` needs a mutable copy: a retain and a release).
        if text.utf8.withContiguousStorageIfAvailable({ write($0) }) == nil { writeBridged(text) }
    }

    /// A literal's bytes, read where the literal is: no string to make, retain and release first.
    @inlinable @inline(__always)
    package mutating func write(literal: StaticString) {
        write(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    @usableFromInline @inline(never)
    mutating func writeBridged(_ text: String) {
        var native = text  // bridged: made native UTF-8 first
        native.withUTF8 { write($0) }
    }

    @inlinable @inline(__always)
    mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        // Wrapping arithmetic: `written` never exceeds the capacity (checked here), so neither overflows.
        precondition(bytes.count <= buffer.count &- written, "UTF8Writer: more text than the capacity given")
        let target = buffer.baseAddress! + written
        let count = bytes.count
        if count <= 16 {
            // Most pieces (names, a reason, short literals) are a few bytes: two overlapping loads and stores each
            // way, inside both ranges, rather than a call to `memcpy` (~13 instructions in it, and the call).
            let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(target)
            if count >= 8 {
                let first = from.loadUnaligned(as: UInt64.self)
                let last = from.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
                to.storeBytes(of: first, as: UInt64.self)
                to.storeBytes(of: last, toByteOffset: count &- 8, as: UInt64.self)
            } else if count >= 4 {
                let first = from.loadUnaligned(as: UInt32.self)
                let last = from.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)
                to.storeBytes(of: first, as: UInt32.self)
                to.storeBytes(of: last, toByteOffset: count &- 4, as: UInt32.self)
            } else {
                let first = source[0], middle = source[count >> 1], last = source[count &- 1]
                target[0] = first
                target[count >> 1] = middle
                target[count &- 1] = last
            }
        } else {
            target.update(from: source, count: count)
        }
        written &+= count
    }

    /// The last `count` bytes of `text` (which must end a character: copying the end of a message written
    /// for another verb).
    package mutating func write(_ text: String, lastBytes count: Int) {
        precondition(count <= text.utf8.count, "UTF8Writer: more bytes than the text has")
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
            write(UnsafeBufferPointer(rebasing: bytes[(bytes.count - count)...]))
        }
        if copied == nil { write(String(decoding: text.utf8.suffix(count), as: UTF8.self)) }
    }

    /// `"a", "b"`: each item in double quotes, joined by `, ` (PSA's `joinQuote`). `quotedListLength(items)`
    /// bytes.
    package mutating func writeQuotedList(_ items: [String]) {
        guard !items.isEmpty else { return }
        write(literal: "\"")
        for (index, item) in items.enumerated() {
            if index > 0 { write(literal: "\", \"") }
            write(item)
        }
        write(literal: "\"")
    }

    /// The length in bytes of `writeQuotedList(items)`.
    package static func quotedListLength(_ items: [String]) -> Int {
        guard !items.isEmpty else { return 0 }
        var length = 2 + 4 * (items.count - 1)
        for item in items { length += item.utf8.count }
        return length
    }
}

/// Text that knows its length in bytes and writes itself into a `UTF8Writer`: a part of a longer string
/// written in place, without a string of its own first.
package protocol WritableText {
    /// The number of bytes `write(to:)` writes.
    var utf8Count: Int { get }
    func write(to text: inout UTF8Writer)
}

extension String: WritableText {
    package var utf8Count: Int { utf8.count }
    package func write(to text: inout UTF8Writer) { text.write(self) }
}

extension String {
    /// `text`, in one string allocated once.
    package init(writing text: some WritableText) {
        self.init(capacity: text.utf8Count) { text.write(to: &$0) }
    }

    /// The text `body` writes, at most `capacity` bytes, in one string allocated once.
    package init(capacity: Int, writing body: (inout UTF8Writer) -> Void) {
        guard capacity > 0 else {
            self = ""
            return
        }
        self.init(unsafeUninitializedCapacity: capacity) { buffer in
            var writer = UTF8Writer(buffer: buffer)
            body(&writer)
            return writer.count
        }
    }

    /// The text of an interpolation, `String(concatenating: "\(containers: names) must set \(field)")`, in one
    /// string allocated once.
    package init(concatenating text: ConcatenatedText) {
        self.init(capacity: text.pieces.length) { text.pieces.write(to: &$0) }
    }
}

/// A string interpolation kept as its pieces, for `String(concatenating:)`.
package struct ConcatenatedText: ExpressibleByStringInterpolation {
    fileprivate var pieces = TextPieces()

    package init(stringLiteral value: String) {
        pieces.append(value)
    }

    package init(stringInterpolation: consuming StringInterpolation) {
        pieces = stringInterpolation.pieces
    }

    package struct StringInterpolation: StringInterpolationProtocol {
        fileprivate var pieces = TextPieces()

        package init(literalCapacity: Int, interpolationCount: Int) {
            pieces.reserveCapacity(2 * interpolationCount + 1)
        }

        package mutating func appendLiteral(_ literal: String) {
            pieces.append(literal)
        }

        package mutating func appendInterpolation(_ text: String) {
            pieces.append(text)
        }

        /// `container "a"` / `containers "a", "b"`, as `containersPhrase(names)`, written straight into the text.
        package mutating func appendInterpolation(containers names: [String]) {
            pieces.appendContainers(names)
        }
    }
}

/// The pieces of an interpolation: up to three (most checks' details) held inline, with no array allocated,
/// more in an array; and a containers phrase kept as its names, not made a string first.
private struct TextPieces {
    private static let inlineCapacity = 3
    /// The length in bytes of the text.
    private(set) var length = 0
    private var count = 0
    private var inline: (String, String, String) = ("", "", "")
    /// Every piece, when more are reserved for than fit inline.
    private var array: [String] = []
    private var usesArray = false
    /// The names of the containers phrase, written in place of the (empty) piece at `containersIndex`. (A text
    /// with a second containers phrase gets it as a string.)
    private var containers: [String] = []
    private var containersIndex = -1

    /// Room for `count` pieces: inline, or in an array allocated once. Before the first piece only.
    mutating func reserveCapacity(_ count: Int) {
        guard count > Self.inlineCapacity else { return }
        usesArray = true
        array.reserveCapacity(count)
    }

    mutating func append(_ piece: String) {
        length += piece.utf8.count
        if usesArray {
            array.append(piece)
        } else {
            precondition(count < Self.inlineCapacity, "TextPieces: more pieces than reserved for")
            // A homogeneous tuple is laid out as an array of its element type.
            withUnsafeMutablePointer(to: &inline) { tuple in
                UnsafeMutableRawPointer(tuple).assumingMemoryBound(to: String.self)[count] = piece
            }
        }
        count += 1
    }

    mutating func appendContainers(_ names: [String]) {
        guard containersIndex < 0 else {
            append(containersPhrase(names))
            return
        }
        containers = names
        containersIndex = count
        append("")
        length += containersNoun(names.count).utf8CodeUnitCount + UTF8Writer.quotedListLength(names)
    }

    func write(to text: inout UTF8Writer) {
        if usesArray {
            for (index, piece) in array.enumerated() {
                if index == containersIndex {
                    text.write(literal: containersNoun(containers.count))
                    text.writeQuotedList(containers)
                } else {
                    text.write(piece)
                }
            }
            return
        }
        withUnsafePointer(to: inline) { tuple in
            let pieces = UnsafeRawPointer(tuple).assumingMemoryBound(to: String.self)
            for index in 0..<count {
                if index == containersIndex {
                    text.write(literal: containersNoun(containers.count))
                    text.writeQuotedList(containers)
                } else {
                    text.write(pieces[index])
                }
            }
        }
    }
}

/// A check's detail, kept unwritten until a message is: a failing check's detail is written into the denial's
/// message (and the audit annotation's), so making it a string of its own first costs an allocation, a UTF-8
/// check and a copy per failing check for nothing. Either a text, or the shape most details have,
/// `<head>container(s) "a", "b"<tail>` with a literal head and tail, written from the names in place:
/// `"pod or \(containers: names) must set securityContext.runAsNonRoot=true"`.
package struct ViolationDetail: Sendable, WritableText, ExpressibleByStringInterpolation {
    /// The whole text, or what comes before the containers phrase.
    private var head: String
    /// The containers phrase's names, when `hasContainers`; otherwise `head` is the text. (Not an optional: one
    /// bound with `if let` retained and released its every list on each read.)
    private var containers: ContainerNames
    private var hasContainers: Bool
    private var tail: String

    /// A detail already written as a string.
    package init(_ text: String) {
        head = text
        containers = ContainerNames([])
        hasContainers = false
        tail = ""
    }

    package init(stringLiteral value: String) {
        self.init(value)
    }

    /// `<head>container(s) "a", "b"<tail>`, as `"\(head)\(containers: names)\(tail)"` but made directly: through the
    /// interpolation, the names were copied into it and out again (a retain and a release of each list).
    package init(_ head: String, containers names: ContainerNames, _ tail: String) {
        self.head = head
        containers = names
        hasContainers = true
        self.tail = tail
    }

    package init(stringInterpolation: consuming StringInterpolation) {
        head = stringInterpolation.head
        if let names = stringInterpolation.containers.take() {
            containers = names
            hasContainers = true
        } else {
            containers = ContainerNames([])
            hasContainers = false
        }
        tail = stringInterpolation.tail
    }

    /// Literals and at most one `\(containers:)`: the literals are immortal strings, so keeping them costs nothing.
    package struct StringInterpolation: StringInterpolationProtocol {
        fileprivate var head = ""
        fileprivate var containers: ContainerNames?
        fileprivate var tail = ""

        package init(literalCapacity: Int, interpolationCount: Int) {
            precondition(interpolationCount <= 1, "ViolationDetail: one containers phrase at most")
        }

        package mutating func appendLiteral(_ literal: String) {
            // Each side gets one literal in practice (the compiler passes "" for an empty one): kept, not copied.
            if case .none = containers {
                if head.isEmpty { head = literal } else { head += literal }
            } else {
                if tail.isEmpty { tail = literal } else { tail += literal }
            }
        }

        /// `container "a"` / `containers "a", "b"`, as `containersPhrase(names)`, written when the detail is.
        package mutating func appendInterpolation(containers names: [String]) {
            containers = ContainerNames(names)
        }

        /// The same, for containers picked from a pod (`PodSpec.containerNames(_:where:)`): no names array made.
        package mutating func appendInterpolation(containers names: ContainerNames) {
            containers = names
        }
    }

    package var utf8Count: Int {
        guard hasContainers else { return head.utf8.count }
        return head.utf8.count + containers.phraseLength + tail.utf8.count
    }

    package var isEmpty: Bool { !hasContainers && head.isEmpty }

    package func write(to text: inout UTF8Writer) {
        text.write(head)
        guard hasContainers else { return }
        containers.writePhrase(to: &text)
        text.write(tail)
    }

    /// The detail as a string.
    package var text: String {
        hasContainers ? String(writing: self) : head
    }
}

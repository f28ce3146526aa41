/// Which of a pod's containers a predicate holds for, a bit per container: what a check tests before it fails,
/// with nothing to retain or release (a passing check makes only this).
struct ContainerMask {
    var initBits: UInt64 = 0
    var containerBits: UInt64 = 0
    var ephemeralBits: UInt64 = 0
    /// The containers matched (counted as they match: this target has no `popcnt` instruction, and
    /// `nonzeroBitCount` is ~20 instructions a word).
    var count = 0
    /// A container past a list's 64th matched: the names are then read again with the predicate (`ContainerNames`).
    var overflow = false

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    static func bits(of list: [Container], where isMatch: (borrowing Container) -> Bool, count: inout Int,
                     overflow: inout Bool) -> UInt64 {
        list.withUnsafeBufferPointer { buffer in
            var bits: UInt64 = 0
            for index in buffer.indices where isMatch(buffer[index]) {
                count += 1
                if index < 64 { bits |= 1 << UInt64(index) } else { overflow = true }
            }
            return bits
        }
    }
}

extension PodSpec {
    /// The containers for which `isMatch` holds, as bits (see `ContainerMask`).
    @inline(__always)
    func containerMask(where isMatch: (borrowing Container) -> Bool) -> ContainerMask {
        var count = 0, overflow = false
        let initBits = ContainerMask.bits(of: initContainers, where: isMatch, count: &count, overflow: &overflow)
        let containerBits = ContainerMask.bits(of: containers, where: isMatch, count: &count, overflow: &overflow)
        let ephemeralBits = ContainerMask.bits(of: ephemeralContainers, where: isMatch, count: &count, overflow: &overflow)
        return ContainerMask(initBits: initBits, containerBits: containerBits, ephemeralBits: ephemeralBits, count: count,
                             overflow: overflow)
    }

    /// The containers `mask` marks, for a detail: `"\(containers: spec.containerNames(mask, where: isMatch)) …"`.
    func containerNames(_ mask: ContainerMask, where isMatch: (borrowing Container) -> Bool) -> ContainerNames {
        ContainerNames(self, mask, where: isMatch)
    }
}

/// The containers a failing check names (`container "a"` / `containers "a", "b"`), kept as which of the pod's
/// containers they are: a bit per container over the pod's own lists, which are only retained. A names array
/// was allocated and filled per failing check, then destroyed name by name with its finding (~600 instructions
/// a failing check). Or, for names not read from a pod, those names. The lists are never optional: a list read
/// in place is not retained, an optional one bound with `if let` is (a retain and a release per read).
package struct ContainerNames: Sendable {
    private let initContainers: [Container]
    private let containers: [Container]
    private let ephemeralContainers: [Container]
    /// Bit `i`: the list's container `i` is named.
    private let initBits: UInt64
    private let containerBits: UInt64
    private let ephemeralBits: UInt64
    /// The names themselves (given, or past a list's 64th container), when `usesNames`; the lists are then unused.
    private let names: [String]
    private let usesNames: Bool
    /// The containers named.
    package let count: Int

    package init(_ names: [String]) {
        self.init(initContainers: [], containers: [], ephemeralContainers: [], initBits: 0, containerBits: 0,
                  ephemeralBits: 0, names: names, usesNames: true, count: names.count)
    }

    /// The containers of `spec` that `mask` marks (`PodSpec.containerMask(where:)` with the same `isMatch`), in
    /// PSA's visiting order, as `containerNames(where:)` gives them. (`spec` borrowed: an initializer's parameters
    /// are owned, and a copy of the spec retained its every field. Every field set at once: set one by one after
    /// their defaults, the value was built, copied out whole and destroyed.)
    init(_ spec: borrowing PodSpec, _ mask: ContainerMask, where isMatch: (borrowing Container) -> Bool) {
        if mask.overflow {
            self.init(spec.containerNames(where: isMatch))
        } else {
            self.init(initContainers: mask.initBits != 0 ? spec.initContainers : [],
                      containers: mask.containerBits != 0 ? spec.containers : [],
                      ephemeralContainers: mask.ephemeralBits != 0 ? spec.ephemeralContainers : [],
                      initBits: mask.initBits, containerBits: mask.containerBits, ephemeralBits: mask.ephemeralBits,
                      names: [], usesNames: false, count: mask.count)
        }
    }

    private init(initContainers: [Container], containers: [Container], ephemeralContainers: [Container],
                 initBits: UInt64, containerBits: UInt64, ephemeralBits: UInt64, names: [String], usesNames: Bool,
                 count: Int) {
        self.initContainers = initContainers
        self.containers = containers
        self.ephemeralContainers = ephemeralContainers
        self.initBits = initBits
        self.containerBits = containerBits
        self.ephemeralBits = ephemeralBits
        self.names = names
        self.usesNames = usesNames
        self.count = count
    }

    /// The names, as an array.
    package var array: [String] {
        if usesNames { return names }
        var array: [String] = []
        array.reserveCapacity(count)
        Self.appendNames(initContainers, initBits, to: &array)
        Self.appendNames(containers, containerBits, to: &array)
        Self.appendNames(ephemeralContainers, ephemeralBits, to: &array)
        return array
    }

    private static func appendNames(_ list: [Container], _ bits: UInt64, to array: inout [String]) {
        list.withUnsafeBufferPointer { buffer in
            var remaining = bits
            while remaining != 0 {
                array.append(buffer[remaining.trailingZeroBitCount].name)
                remaining &= remaining &- 1
            }
        }
    }

    /// The length in bytes of `writePhrase(to:)`.
    package var phraseLength: Int {
        if usesNames { return containersNoun(names.count).utf8CodeUnitCount + UTF8Writer.quotedListLength(names) }
        let count = count
        guard count > 0 else { return containersNoun(0).utf8CodeUnitCount }
        return containersNoun(count).utf8CodeUnitCount + 2 + 4 * (count - 1) + Self.namesLength(initContainers, initBits)
            + Self.namesLength(containers, containerBits) + Self.namesLength(ephemeralContainers, ephemeralBits)
    }

    /// `container "a"` / `containers "a", "b"`, as `containersPhrase` writes it.
    package func writePhrase(to text: inout UTF8Writer) {
        if usesNames {
            text.write(literal: containersNoun(names.count))
            text.writeQuotedList(names)
            return
        }
        let count = count
        text.write(literal: containersNoun(count))
        guard count > 0 else { return }
        text.write(literal: "\"")
        // Plain loops over an `inout` flag: a closure over a local `var` boxed it and checked access at run time.
        var separated = false
        Self.writeNames(initContainers, initBits, &separated, &text)
        Self.writeNames(containers, containerBits, &separated, &text)
        Self.writeNames(ephemeralContainers, ephemeralBits, &separated, &text)
        text.write(literal: "\"")
    }

    @inline(__always)
    private static func namesLength(_ list: [Container], _ bits: UInt64) -> Int {
        guard bits != 0 else { return 0 }
        return list.withUnsafeBufferPointer { buffer in
            var length = 0
            var remaining = bits
            while remaining != 0 {
                length += buffer[remaining.trailingZeroBitCount].name.utf8.count
                remaining &= remaining &- 1
            }
            return length
        }
    }

    @inline(__always)
    private static func writeNames(_ list: [Container], _ bits: UInt64, _ separated: inout Bool, _ text: inout UTF8Writer) {
        guard bits != 0 else { return }
        list.withUnsafeBufferPointer { buffer in
            var remaining = bits
            while remaining != 0 {
                if separated { text.write(literal: "\", \"") }
                separated = true
                text.write(buffer[remaining.trailingZeroBitCount].name)
                remaining &= remaining &- 1
            }
        }
    }
}

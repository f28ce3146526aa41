#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Sixteen bytes tested at once, for the scans that run over every string of a review (the parser finding where
/// a string ends, the writer finding what to escape): a comparison of whole vectors sets a lane to 0xFF where it
/// holds, and `laneBits` turns the lanes into one bit each, so that the first flagged byte is a count of
/// trailing zeros.
enum ByteBlock {
    typealias Lanes = SIMD16<UInt8>

    /// Bit i set when lane i of `lanes` (each 0 or 0xFF) is set.
    @inline(__always)
    static func laneBits(_ lanes: Lanes) -> UInt32 {
        #if arch(x86_64)
        return UInt32(truncatingIfNeeded: _mm_movemask_epi8(unsafeBitCast(lanes, to: __m128i.self)))
        #else
        return portableLaneBits(lanes)
        #endif
    }

    /// `laneBits` without SSE2's movemask (tested on every platform): each half's high bits gathered into its
    /// top byte by a multiplication.
    @inline(__always)
    static func portableLaneBits(_ lanes: Lanes) -> UInt32 {
        let halves = unsafeBitCast(lanes, to: SIMD2<UInt64>.self)
        let gather: UInt64 = 0x0002_0408_1020_4081
        let low = UInt64(littleEndian: halves[0]) & 0x8080_8080_8080_8080
        let high = UInt64(littleEndian: halves[1]) & 0x8080_8080_8080_8080
        return UInt32(truncatingIfNeeded: (low &* gather) >> 56) | UInt32(truncatingIfNeeded: (high &* gather) >> 56) << 8
    }
}

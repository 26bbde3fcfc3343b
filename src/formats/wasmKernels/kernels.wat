;; Inner loops over tensor values in WebAssembly with 128-bit SIMD: statistics, and widening of 16-bit floats to
;; float32. scripts/assemble-wasm.mjs assembles this file into kernelsBinary.ts; kernels.ts loads it and copies
;; values in and out of the scratch areas.
;;
;; Memory layout, fixed, in bytes. The caller owns every region and no kernel allocates.
;;   0 .. 520                 histogram bin edges: 65 f64 values, ascending
;;   1024 .. 2048             bin counts: 4 interleaved sets of 64 i32, set k at 1024 + 256 * k
;;   2048 .. 2088             moments output: 5 f64 values
;;   4096 .. 1052672          float32 scratch: up to 256 Ki values (1 MiB)
;;   1052672 .. 1576960       16-bit scratch: up to 256 Ki float16 or bfloat16 patterns (512 KiB)
(module
  ;; 25 pages of 64 KiB (1600 KiB) hold both scratch areas after the first 4 KiB.
  (memory (export "memory") 25 25)

  ;; Sums over `count` float32 values at `values` and stores at `out`, as f64: the sum of the values, the sum of
  ;; (value - shift), the sum of (value - shift)^2, the minimum and the maximum. The sums are NaN or infinite when
  ;; any value is, and the minimum and maximum are then NaN when a value is NaN (f32x4.min and f32x4.max
  ;; propagate NaN). The plain sum gives the mean: a shift far from most values, such as an outlier, would cost
  ;; the shifted sum digits of the mean, while the squared deviations do not depend on the shift.
  (func (export "moments") (param $values i32) (param $count i32) (param $shift f64) (param $out i32)
    (local $end i32) (local $vector v128) (local $shifts v128)
    (local $low v128) (local $high v128) (local $promotedLow v128) (local $promotedHigh v128)
    ;; Each sum has its own register per half of the vector, so consecutive additions do not wait on each other.
    (local $totalLow v128) (local $totalHigh v128)
    (local $sumLow v128) (local $sumHigh v128) (local $squaresLow v128) (local $squaresHigh v128)
    (local $min v128) (local $max v128)
    (local $value f32) (local $deviation f64) (local $total f64) (local $sum f64) (local $squares f64) (local $minimum f32) (local $maximum f32)
    (local.set $shifts (f64x2.splat (local.get $shift)))
    (local.set $min (f32x4.splat (f32.const inf)))
    (local.set $max (f32x4.splat (f32.const -inf)))
    (local.set $end (i32.add (local.get $values) (i32.shl (i32.and (local.get $count) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $values) (local.get $end)))
        (local.set $vector (v128.load (local.get $values)))
        (local.set $min (f32x4.min (local.get $min) (local.get $vector)))
        (local.set $max (f32x4.max (local.get $max) (local.get $vector)))
        (local.set $promotedLow (f64x2.promote_low_f32x4 (local.get $vector)))
        ;; The shuffle moves lanes 2 and 3 to lanes 0 and 1 for the promotion.
        (local.set $promotedHigh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vector) (local.get $vector))))
        (local.set $totalLow (f64x2.add (local.get $totalLow) (local.get $promotedLow)))
        (local.set $totalHigh (f64x2.add (local.get $totalHigh) (local.get $promotedHigh)))
        (local.set $low (f64x2.sub (local.get $promotedLow) (local.get $shifts)))
        (local.set $high (f64x2.sub (local.get $promotedHigh) (local.get $shifts)))
        (local.set $sumLow (f64x2.add (local.get $sumLow) (local.get $low)))
        (local.set $sumHigh (f64x2.add (local.get $sumHigh) (local.get $high)))
        (local.set $squaresLow (f64x2.add (local.get $squaresLow) (f64x2.mul (local.get $low) (local.get $low))))
        (local.set $squaresHigh (f64x2.add (local.get $squaresHigh) (f64x2.mul (local.get $high) (local.get $high))))
        (local.set $values (i32.add (local.get $values) (i32.const 16)))
        (br $next)))

    (local.set $totalLow (f64x2.add (local.get $totalLow) (local.get $totalHigh)))
    (local.set $sumLow (f64x2.add (local.get $sumLow) (local.get $sumHigh)))
    (local.set $squaresLow (f64x2.add (local.get $squaresLow) (local.get $squaresHigh)))
    (local.set $total (f64.add (f64x2.extract_lane 0 (local.get $totalLow)) (f64x2.extract_lane 1 (local.get $totalLow))))
    (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $sumLow)) (f64x2.extract_lane 1 (local.get $sumLow))))
    (local.set $squares (f64.add (f64x2.extract_lane 0 (local.get $squaresLow)) (f64x2.extract_lane 1 (local.get $squaresLow))))
    (local.set $minimum (f32.min
      (f32.min (f32x4.extract_lane 0 (local.get $min)) (f32x4.extract_lane 1 (local.get $min)))
      (f32.min (f32x4.extract_lane 2 (local.get $min)) (f32x4.extract_lane 3 (local.get $min)))))
    (local.set $maximum (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $max)) (f32x4.extract_lane 1 (local.get $max)))
      (f32.max (f32x4.extract_lane 2 (local.get $max)) (f32x4.extract_lane 3 (local.get $max)))))

    ;; The last count % 4 values, one at a time.
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $count) (i32.const 3)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $values) (local.get $end)))
        (local.set $value (f32.load (local.get $values)))
        (local.set $minimum (f32.min (local.get $minimum) (local.get $value)))
        (local.set $maximum (f32.max (local.get $maximum) (local.get $value)))
        (local.set $total (f64.add (local.get $total) (f64.promote_f32 (local.get $value))))
        (local.set $deviation (f64.sub (f64.promote_f32 (local.get $value)) (local.get $shift)))
        (local.set $sum (f64.add (local.get $sum) (local.get $deviation)))
        (local.set $squares (f64.add (local.get $squares) (f64.mul (local.get $deviation) (local.get $deviation))))
        (local.set $values (i32.add (local.get $values) (i32.const 4)))
        (br $next)))

    (f64.store offset=0 (local.get $out) (local.get $total))
    (f64.store offset=8 (local.get $out) (local.get $sum))
    (f64.store offset=16 (local.get $out) (local.get $squares))
    (f64.store offset=24 (local.get $out) (f64.promote_f32 (local.get $minimum)))
    (f64.store offset=32 (local.get $out) (f64.promote_f32 (local.get $maximum))))

;; Adds the finite values among `count` float32 values at `values` to the counts of set 0..3 and returns how
  ;; many values equal zero (either sign). `low` and `scale` map a value to its scaled offset
  ;; (value - low) * scale, whose integer part is the bin; it is the same float64 arithmetic as the caller's, and
  ;; the caller's range puts every finite offset in [0, 64].
  ;;
  ;; Adding 2^42 to an offset below 2^42 rounds it to a multiple of 2^-10, and the low 52 bits of the sum's bit
  ;; pattern are then round(offset * 1024): bits 10 and up hold the integer part and bits 0..9 the fraction. A
  ;; group of four values whose fractions all lie in 1..1022 (at least 2^-11 bins from an edge) is binned by the
  ;; integer parts alone, because rounding moves a scaled offset by far less than that (kernels.ts states the
  ;; bound). Any other group, including one with NaN or an infinity (whose fraction bits are zero), goes through
  ;; $binExactly, which compares with the edges themselves as np.histogram does. This test replaced one built on
  ;; i32x4.trunc_sat_f64x2_s_zero and made the loop about 20% faster (Node 20, 2-core AMD EPYC VM).
  (func (export "histogram") (param $values i32) (param $count i32) (param $low f64) (param $scale f64) (result i32)
    (local $end i32) (local $vector v128) (local $lows v128) (local $scales v128)
    (local $offsetLow v128) (local $offsetHigh v128) (local $roundedLow v128) (local $roundedHigh v128)
    (local $bins v128) (local $nearEdge v128) (local $zeros v128)
    (local $magic v128) (local $one v128) (local $fractionMask v128) (local $binMask v128) (local $zeroVector v128)
    (local $value f32) (local $zeroCount i32) (local $address i32)
    (local.set $lows (f64x2.splat (local.get $low)))
    (local.set $scales (f64x2.splat (local.get $scale)))
    ;; Vector constants live in locals, set once, because inline v128.const values measured a little slower.
    (local.set $magic (f64x2.splat (f64.const 0x1p42)))
    (local.set $one (i64x2.splat (i64.const 1)))
    (local.set $fractionMask (i64x2.splat (i64.const 1022)))
    (local.set $binMask (i32x4.splat (i32.const 63)))
    ;; $zeroVector is never set: locals start as zero.
    (local.set $end (i32.add (local.get $values) (i32.shl (i32.and (local.get $count) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $values) (local.get $end)))
        (local.set $vector (v128.load (local.get $values)))
        ;; f32x4.eq yields -1 in each lane that holds zero.
        (local.set $zeros (i32x4.sub (local.get $zeros) (f32x4.eq (local.get $vector) (local.get $zeroVector))))
        (local.set $offsetLow (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $vector)) (local.get $lows)) (local.get $scales)))
        (local.set $offsetHigh (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vector) (local.get $vector))) (local.get $lows)) (local.get $scales)))
        ;; Bit patterns of offset + 2^42, plus one: the fraction field is then 0 or 1 exactly for the fractions 1023
        ;; and 0, so masking with 1022 leaves zero only in lanes near an edge.
        (local.set $roundedLow (i64x2.add (f64x2.add (local.get $offsetLow) (local.get $magic)) (local.get $one)))
        (local.set $roundedHigh (i64x2.add (f64x2.add (local.get $offsetHigh) (local.get $magic)) (local.get $one)))
        (local.set $nearEdge (v128.or
          (i64x2.eq (v128.and (local.get $roundedLow) (local.get $fractionMask)) (local.get $zeroVector))
          (i64x2.eq (v128.and (local.get $roundedHigh) (local.get $fractionMask)) (local.get $zeroVector))))
        (if (i32.eqz (v128.any_true (local.get $nearEdge)))
          (then
            ;; The low 32 bits of each lane, shifted past the fraction: the integer parts, below 64 here. The mask
            ;; keeps a caller's out-of-range offset inside the counts instead of letting it write elsewhere.
            (local.set $bins (v128.and
              (i32x4.shr_u (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $roundedLow) (local.get $roundedHigh)) (i32.const 10))
              (local.get $binMask)))
            ;; One set of counts per lane: increments of one bin by neighbouring values do not wait on each other.
            (local.set $address (i32.add (i32.const 1024) (i32.shl (i32x4.extract_lane 0 (local.get $bins)) (i32.const 2))))
            (i32.store (local.get $address) (i32.add (i32.load (local.get $address)) (i32.const 1)))
            (local.set $address (i32.add (i32.const 1280) (i32.shl (i32x4.extract_lane 1 (local.get $bins)) (i32.const 2))))
            (i32.store (local.get $address) (i32.add (i32.load (local.get $address)) (i32.const 1)))
            (local.set $address (i32.add (i32.const 1536) (i32.shl (i32x4.extract_lane 2 (local.get $bins)) (i32.const 2))))
            (i32.store (local.get $address) (i32.add (i32.load (local.get $address)) (i32.const 1)))
            (local.set $address (i32.add (i32.const 1792) (i32.shl (i32x4.extract_lane 3 (local.get $bins)) (i32.const 2))))
            (i32.store (local.get $address) (i32.add (i32.load (local.get $address)) (i32.const 1))))
          (else
            (call $binExactly (f32x4.extract_lane 0 (local.get $vector)) (f64x2.extract_lane 0 (local.get $offsetLow)))
            (call $binExactly (f32x4.extract_lane 1 (local.get $vector)) (f64x2.extract_lane 1 (local.get $offsetLow)))
            (call $binExactly (f32x4.extract_lane 2 (local.get $vector)) (f64x2.extract_lane 0 (local.get $offsetHigh)))
            (call $binExactly (f32x4.extract_lane 3 (local.get $vector)) (f64x2.extract_lane 1 (local.get $offsetHigh)))))
        (local.set $values (i32.add (local.get $values) (i32.const 16)))
        (br $next)))

    ;; The last count % 4 values, one at a time.
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $count) (i32.const 3)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $values) (local.get $end)))
        (local.set $value (f32.load (local.get $values)))
        (local.set $zeroCount (i32.add (local.get $zeroCount) (f32.eq (local.get $value) (f32.const 0))))
        (call $binExactly (local.get $value) (f64.mul (f64.sub (f64.promote_f32 (local.get $value)) (local.get $low)) (local.get $scale)))
        (local.set $values (i32.add (local.get $values) (i32.const 4)))
        (br $next)))

    (i32.add (local.get $zeroCount) (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $zeros)) (i32x4.extract_lane 1 (local.get $zeros)))
      (i32.add (i32x4.extract_lane 2 (local.get $zeros)) (i32x4.extract_lane 3 (local.get $zeros))))))

  ;; Adds one to the i32 count of `bin` in the set at `set`.
  (func $increment (param $set i32) (param $bin i32)
    (local $address i32)
    (local.set $address (i32.add (local.get $set) (i32.shl (local.get $bin) (i32.const 2))))
    (i32.store (local.get $address) (i32.add (i32.load (local.get $address)) (i32.const 1))))

  ;; Counts one value in set 0 the way np.histogram places it: truncate the scaled offset, clamp it to the last
  ;; bin (the maximum lands there), then step down when the value is below the bin's lower edge, or up when it
  ;; reaches the next bin's lower edge. NaN and infinite values are skipped.
  (func $binExactly (param $value32 f32) (param $offset f64)
    (local $value f64) (local $bin i32)
    (local.set $value (f64.promote_f32 (local.get $value32)))
    (if (i32.eqz (f64.le (f64.abs (local.get $value)) (f64.const 3.4028234663852886e38)))
      (then (return)))
    (local.set $bin (i32.trunc_sat_f64_s (local.get $offset)))
    (if (i32.gt_s (local.get $bin) (i32.const 63)) (then (local.set $bin (i32.const 63))))
    (if (i32.lt_s (local.get $bin) (i32.const 0)) (then (local.set $bin (i32.const 0))))
    ;; The bin > 0 test keeps a value below the first edge, which the caller's range rules out, inside set 0.
    (if (i32.and (i32.gt_s (local.get $bin) (i32.const 0)) (f64.lt (local.get $value) (call $edge (local.get $bin))))
      (then (local.set $bin (i32.sub (local.get $bin) (i32.const 1))))
      (else
        (if (i32.and
              (i32.ne (local.get $bin) (i32.const 63))
              (f64.ge (local.get $value) (call $edge (i32.add (local.get $bin) (i32.const 1)))))
          (then (local.set $bin (i32.add (local.get $bin) (i32.const 1)))))))
    (call $increment (i32.const 1024) (local.get $bin)))

  ;; Lower edge of bin `index`; index 64 is the upper edge of the last bin.
  (func $edge (param $index i32) (result f64)
    (f64.load (i32.shl (local.get $index) (i32.const 3))))

;; Writes `count` bfloat16 patterns at `source` as float32 values at `target`; `count` is a multiple of 8. A
  ;; bfloat16 value is the upper half of the float32 with the same bits, so widening is exact.
  (func (export "widenBfloat16") (param $source i32) (param $target i32) (param $count i32)
    (local $end i32) (local $patterns v128)
    (local.set $end (i32.add (local.get $source) (i32.shl (local.get $count) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $source) (local.get $end)))
        (local.set $patterns (v128.load (local.get $source)))
        (v128.store offset=0 (local.get $target) (i32x4.shl (i32x4.extend_low_i16x8_u (local.get $patterns)) (i32.const 16)))
        (v128.store offset=16 (local.get $target) (i32x4.shl (i32x4.extend_high_i16x8_u (local.get $patterns)) (i32.const 16)))
        (local.set $source (i32.add (local.get $source) (i32.const 16)))
        (local.set $target (i32.add (local.get $target) (i32.const 32)))
        (br $next))))

  ;; Writes `count` IEEE 754 float16 patterns at `source` as float32 values at `target`, exactly; `count` is a
  ;; multiple of 8. The sign moves from bit 15 to bit 31. For normal values the exponent and fraction shift left
  ;; by 13 and the exponent bias grows by 127 - 15 = 112, which adds 112 << 23 = 0x38000000. Infinity and NaN
  ;; (exponent 31) need exponent 255, so they get that addition twice. Subnormals and zero (exponent 0) are the
  ;; fraction times 2^-24, which float32 arithmetic computes exactly. The conversion is written out for each half
  ;; of the eight patterns because V8 (Node 20) does not inline WebAssembly calls, and a call per half made the
  ;; loop about 35% slower.
  (func (export "widenFloat16") (param $source i32) (param $target i32) (param $count i32)
    (local $end i32) (local $patterns v128) (local $halves v128) (local $magnitude v128) (local $normal v128)
    (local $magnitudeMask v128) (local $signMask v128) (local $biasStep v128) (local $largestFinite v128)
    (local $smallestNormal v128) (local $subnormalUnit v128)
    (local.set $magnitudeMask (i32x4.splat (i32.const 0x7fff)))
    (local.set $signMask (i32x4.splat (i32.const 0x8000)))
    (local.set $biasStep (i32x4.splat (i32.const 0x38000000)))
    (local.set $largestFinite (i32x4.splat (i32.const 0x7bff)))
    (local.set $smallestNormal (i32x4.splat (i32.const 0x0400)))
    (local.set $subnormalUnit (f32x4.splat (f32.const 0x1p-24)))
    (local.set $end (i32.add (local.get $source) (i32.shl (local.get $count) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $source) (local.get $end)))
        (local.set $patterns (v128.load (local.get $source)))

        (local.set $halves (i32x4.extend_low_i16x8_u (local.get $patterns)))
        (local.set $magnitude (v128.and (local.get $halves) (local.get $magnitudeMask)))
        (local.set $normal (i32x4.add (i32x4.shl (local.get $magnitude) (i32.const 13)) (local.get $biasStep)))
        (local.set $normal (i32x4.add (local.get $normal)
          (v128.and (i32x4.gt_s (local.get $magnitude) (local.get $largestFinite)) (local.get $biasStep))))
        (v128.store offset=0 (local.get $target) (v128.or
          (i32x4.shl (v128.and (local.get $halves) (local.get $signMask)) (i32.const 16))
          (v128.bitselect
            (f32x4.mul (f32x4.convert_i32x4_s (local.get $magnitude)) (local.get $subnormalUnit))
            (local.get $normal)
            (i32x4.lt_s (local.get $magnitude) (local.get $smallestNormal)))))

        (local.set $halves (i32x4.extend_high_i16x8_u (local.get $patterns)))
        (local.set $magnitude (v128.and (local.get $halves) (local.get $magnitudeMask)))
        (local.set $normal (i32x4.add (i32x4.shl (local.get $magnitude) (i32.const 13)) (local.get $biasStep)))
        (local.set $normal (i32x4.add (local.get $normal)
          (v128.and (i32x4.gt_s (local.get $magnitude) (local.get $largestFinite)) (local.get $biasStep))))
        (v128.store offset=16 (local.get $target) (v128.or
          (i32x4.shl (v128.and (local.get $halves) (local.get $signMask)) (i32.const 16))
          (v128.bitselect
            (f32x4.mul (f32x4.convert_i32x4_s (local.get $magnitude)) (local.get $subnormalUnit))
            (local.get $normal)
            (i32x4.lt_s (local.get $magnitude) (local.get $smallestNormal)))))

        (local.set $source (i32.add (local.get $source) (i32.const 16)))
        (local.set $target (i32.add (local.get $target) (i32.const 32)))
        (br $next))))
)

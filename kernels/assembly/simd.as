// AssemblyScript source of the SIMD kernels (compiled by scripts/build-kernels.ts into
// kernels/wasm/simd-binary.ts; the file is `.as` so the project's tsc does not read it).
//
// The module IMPORTS tfjs-wasm's own linear memory ("env", "memory"): every pointer below is
// a byte offset into that memory (a tensor's `memoryOffset`, or a block from the backend's
// `_malloc`). So the kernels read and write tensors in place, with no copies in or out.
// Rules that keep that safe: no static data, no allocation, no runtime (built with
// `--runtime stub`, no strings); all addresses come from the caller.
//
// Layout conventions: matrices are row-major float32, `ld*` are row strides in elements.

// ---------------------------------------------------------------------------------------
// Small helpers

@inline function f4(x: f32): v128 {
  return f32x4.splat(x);
}

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

@inline function addr(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
}

// exp(x) on 4 lanes: Cephes-style range reduction x = n·ln2 + r, degree-6 polynomial in r,
// 2^n built in the exponent bits. Relative error ~2 ulp; lanes below -87.3 (masked scores)
// give exactly 0 like the reference softmax does. Written for V8's x64 code generator:
// pmin/pmax are single instructions (min/max carry NaN rules and cost ~8), and adding
// 1.5·2^23 both rounds x·log2(e) to an integer and leaves that integer in the low mantissa
// bits, replacing nearest + trunc_sat (also multi-instruction sequences).
@inline function exp4(x: v128): v128 {
  const lo = f4(-87.3);
  const keep = f32x4.ge(x, lo);
  const xc = f32x4.pmin(f32x4.pmax(x, lo), f4(88.3));
  const magic = f4(12582912.0);
  const t = f32x4.add(f32x4.mul(xc, f4(1.44269504088896341)), magic);
  const n = f32x4.sub(t, magic);
  let r = f32x4.sub(xc, f32x4.mul(n, f4(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f4(-2.12194440e-4)));
  let p = f4(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f4(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f4(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f4(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f4(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f4(5.0000001201e-1));
  const r2 = f32x4.mul(r, r);
  p = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), f4(1.0));
  // t's bits are magic's bits + n (|n| <= 127 fits in the low mantissa bits).
  const ni = i32x4.sub(t, i32x4.splat(0x4b400000));
  const pow2n = i32x4.shl(i32x4.add(ni, i32x4.splat(127)), 23);
  return v128.and(f32x4.mul(p, pow2n), keep);
}

/**
 * Natural log for x >= 1e-30 (the softmax sums here are >= 1). Written out because the
 * standard library's log uses lookup tables, i.e. a data segment this module must not have.
 * Computed in f64: x = 2^e·m with m in [1/√2, √2), log m = 2·atanh((m−1)/(m+1)).
 */
function logf(x: f32): f32 {
  const bits = reinterpret<u64>(<f64>x);
  let e = <i32>((bits >> 52) & 0x7ff) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  const s = (m - 1.0) / (m + 1.0);
  const s2 = s * s;
  const series = s * (2.0 + s2 * (2.0 / 3 + s2 * (2.0 / 5 + s2 * (2.0 / 7 + s2 * (2.0 / 9 + s2 * (2.0 / 11 + s2 * (2.0 / 13)))))));
  return <f32>(<f64>e * 0.6931471805599453 + series);
}

/** Scalar exp with the same polynomial as exp4, so padded tails match the vector lanes. */
@inline function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

// ---------------------------------------------------------------------------------------
// Transpose

/** dst[c*ldd + r] = src[r*lds + c] for r < rows, c < cols (cache-blocked). */
export function transpose(src: usize, lds: i32, dst: usize, ldd: i32, rows: i32, cols: i32): void {
  const TB = 16;
  for (let r0 = 0; r0 < rows; r0 += TB) {
    const r1 = min(r0 + TB, rows);
    for (let c0 = 0; c0 < cols; c0 += TB) {
      const c1 = min(c0 + TB, cols);
      for (let r = r0; r < r1; r++) {
        const srow = addr(src, r * lds);
        for (let c = c0; c < c1; c++) {
          store<f32>(addr(dst, c * ldd + r), load<f32>(addr(srow, c)));
        }
      }
    }
  }
}

/** `batch` independent transposes of [rows, cols] row-major blocks stored back to back. */
export function transposeBatch(src: usize, dst: usize, batch: i32, rows: i32, cols: i32): void {
  const size = <usize>rows * <usize>cols * 4;
  for (let b = 0; b < batch; b++) {
    transpose(src + <usize>b * size, cols, dst + <usize>b * size, rows, rows, cols);
  }
}

// ---------------------------------------------------------------------------------------
// GEMM: C[M,N] (+)= A[M,K] · B[K,N]

// Register tiles. A is addressed with two byte strides, element (i, k) at a + i·ars + k·aks,
// so the same tiles serve A (ars = lda·4, aks = 4) and Aᵀ stored [K,M] (ars = 4, aks = lda·4)
// without materialising the transpose. B is row-major [K,N] with byte stride ldb.

// 4 rows x 8 columns: 8 accumulators + 2 B vectors + 1 broadcast A value.
@inline function tile4x8(a: usize, ars: usize, aks: usize, b: usize, ldb: usize, c: usize, ldc: usize, K: i32, acc: bool): void {
  let c00 = f4(0), c01 = f4(0), c10 = f4(0), c11 = f4(0);
  let c20 = f4(0), c21 = f4(0), c30 = f4(0), c31 = f4(0);
  let pa = a;
  let pb = b;
  const a1 = ars, a2 = ars * 2, a3 = ars * 3;
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let av = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(av, b0));
    c01 = f32x4.add(c01, f32x4.mul(av, b1));
    av = v128.load32_splat(pa + a1);
    c10 = f32x4.add(c10, f32x4.mul(av, b0));
    c11 = f32x4.add(c11, f32x4.mul(av, b1));
    av = v128.load32_splat(pa + a2);
    c20 = f32x4.add(c20, f32x4.mul(av, b0));
    c21 = f32x4.add(c21, f32x4.mul(av, b1));
    av = v128.load32_splat(pa + a3);
    c30 = f32x4.add(c30, f32x4.mul(av, b0));
    c31 = f32x4.add(c31, f32x4.mul(av, b1));
    pa += aks;
    pb += ldb;
  }
  if (acc) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ldc));
    c11 = f32x4.add(c11, v128.load(c + ldc, 16));
    c20 = f32x4.add(c20, v128.load(c + ldc * 2));
    c21 = f32x4.add(c21, v128.load(c + ldc * 2, 16));
    c30 = f32x4.add(c30, v128.load(c + ldc * 3));
    c31 = f32x4.add(c31, v128.load(c + ldc * 3, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + ldc, c10);
  v128.store(c + ldc, c11, 16);
  v128.store(c + ldc * 2, c20);
  v128.store(c + ldc * 2, c21, 16);
  v128.store(c + ldc * 3, c30);
  v128.store(c + ldc * 3, c31, 16);
}

// 4 rows x 4 columns.
@inline function tile4x4(a: usize, ars: usize, aks: usize, b: usize, ldb: usize, c: usize, ldc: usize, K: i32, acc: bool): void {
  let c0 = f4(0), c1 = f4(0), c2 = f4(0), c3 = f4(0);
  let pa = a;
  let pb = b;
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb);
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(pa), b0));
    c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(pa + ars), b0));
    c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(pa + ars * 2), b0));
    c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(pa + ars * 3), b0));
    pa += aks;
    pb += ldb;
  }
  if (acc) {
    c0 = f32x4.add(c0, v128.load(c));
    c1 = f32x4.add(c1, v128.load(c + ldc));
    c2 = f32x4.add(c2, v128.load(c + ldc * 2));
    c3 = f32x4.add(c3, v128.load(c + ldc * 3));
  }
  v128.store(c, c0);
  v128.store(c + ldc, c1);
  v128.store(c + ldc * 2, c2);
  v128.store(c + ldc * 3, c3);
}

// 1 row x 8 columns (row tail).
@inline function tile1x8(a: usize, aks: usize, b: usize, ldb: usize, c: usize, K: i32, acc: bool): void {
  let c0 = f4(0), c1 = f4(0);
  let pa = a;
  let pb = b;
  for (let k = 0; k < K; k++) {
    const av = v128.load32_splat(pa);
    c0 = f32x4.add(c0, f32x4.mul(av, v128.load(pb)));
    c1 = f32x4.add(c1, f32x4.mul(av, v128.load(pb, 16)));
    pa += aks;
    pb += ldb;
  }
  if (acc) {
    c0 = f32x4.add(c0, v128.load(c));
    c1 = f32x4.add(c1, v128.load(c, 16));
  }
  v128.store(c, c0);
  v128.store(c, c1, 16);
}

// 1 row x 4 columns.
@inline function tile1x4(a: usize, aks: usize, b: usize, ldb: usize, c: usize, K: i32, acc: bool): void {
  let c0 = f4(0);
  let pa = a;
  let pb = b;
  for (let k = 0; k < K; k++) {
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(pa), v128.load(pb)));
    pa += aks;
    pb += ldb;
  }
  if (acc) c0 = f32x4.add(c0, v128.load(c));
  v128.store(c, c0);
}

// 1 row x 1 column (column tail when N is not a multiple of 4).
@inline function tile1x1(a: usize, aks: usize, b: usize, ldb: usize, c: usize, K: i32, acc: bool): void {
  let s: f32 = 0;
  let pa = a;
  let pb = b;
  for (let k = 0; k < K; k++) {
    s += load<f32>(pa) * load<f32>(pb);
    pa += aks;
    pb += ldb;
  }
  if (acc) s += load<f32>(c);
  store<f32>(c, s);
}

function gemmBlock(a: usize, ars: usize, aks: usize, b: usize, ldb: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, acc: bool): void {
  const ldbB = <usize>ldb << 2, ldcB = <usize>ldc << 2;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const ai = a + <usize>i * ars;
    const ci = c + <usize>i * ldcB;
    let j = 0;
    for (; j + 8 <= N; j += 8) tile4x8(ai, ars, aks, addr(b, j), ldbB, addr(ci, j), ldcB, K, acc);
    for (; j + 4 <= N; j += 4) tile4x4(ai, ars, aks, addr(b, j), ldbB, addr(ci, j), ldcB, K, acc);
    for (; j < N; j++) {
      for (let r = 0; r < 4; r++) tile1x1(ai + <usize>r * ars, aks, addr(b, j), ldbB, addr(ci + <usize>r * ldcB, j), K, acc);
    }
  }
  for (; i < M; i++) {
    const ai = a + <usize>i * ars;
    const ci = c + <usize>i * ldcB;
    let j = 0;
    for (; j + 8 <= N; j += 8) tile1x8(ai, aks, addr(b, j), ldbB, addr(ci, j), K, acc);
    for (; j + 4 <= N; j += 4) tile1x4(ai, aks, addr(b, j), ldbB, addr(ci, j), K, acc);
    for (; j < N; j++) tile1x1(ai, aks, addr(b, j), ldbB, addr(ci, j), K, acc);
  }
}

/**
 * C[M,N] = op(A)·B[K,N] (or C += when acc != 0), op(A) = A [M,K] with row stride lda, or
 * with transA != 0, Aᵀ for A stored [K,M] with row stride lda. Blocks K and N so a B panel
 * stays in cache when K is long (the weight gradient Xᵀ·dY has K = batch·time).
 */
export function gemm(
  a: usize, lda: i32, transA: i32, b: usize, ldb: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, acc: i32,
): void {
  const KC = 256, NC = 128;
  const ars: usize = transA != 0 ? 4 : <usize>lda << 2;
  const aks: usize = transA != 0 ? <usize>lda << 2 : 4;
  if (K == 0) {
    if (acc == 0) {
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) store<f32>(addr(c, i * ldc + j), 0);
    }
    return;
  }
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const accBlock = acc != 0 || k0 > 0;
    for (let j0 = 0; j0 < N; j0 += NC) {
      const nc = min(NC, N - j0);
      gemmBlock(a + <usize>k0 * aks, ars, aks, addr(b, k0 * ldb + j0), ldb, addr(c, j0), ldc, M, nc, kc, accBlock);
    }
  }
}

/**
 * Batched C[t] = op(A[t])·B[t] over `batch` products stored back to back; a stride of 0
 * broadcasts that operand (strides in elements). transA as in gemm (A[t] stored [K,M]).
 */
export function gemmBatch(a: usize, strideA: i32, transA: i32, b: usize, strideB: i32, c: usize, batch: i32, M: i32, N: i32, K: i32): void {
  const lda = transA != 0 ? M : K;
  for (let t = 0; t < batch; t++) {
    gemm(addr(a, t * strideA), lda, transA, addr(b, t * strideB), N, addr(c, t * M * N), N, M, N, K, 0);
  }
}

// ---------------------------------------------------------------------------------------
// Fused attention. Scores S = Q·Kᵀ·scale + mask; P = softmax_rows(S); O = P·V.
// q: [B,H,Tq,D], k,v: [B,H,Tk,D], mask: [B or 1, Tq, Tk], out: [B,H,Tq,D], lse: [B,H,Tq].
//
// Masked work is skipped: a mask entry <= SKIP_BELOW contributes exp(≈ -1e9) = 0 exactly, in
// the reference softmax as here, so each query row only computes the column range
// [lo, hi) spanning its unmasked keys (rounded out to multiples of 4), and each key column only
// the query rows whose range covers it. A causal mask thus costs about half of a dense one.
// A row with no unmasked entry keeps its full range (the reference then gives a uniform
// softmax over all keys, and so does this). Outside its range a row of P is exactly 0.
// Scratch rows have ld = pad4(Tk) columns; Kᵀ/Vᵀ padding columns are zeroed so padded scores
// are finite before being replaced by -3e38 (exp → 0).

const SKIP_BELOW: f32 = -1e8;

@inline function pad4(n: i32): i32 {
  return (n + 3) & ~3;
}

// Scratch layout shared by both passes (bytes): row ranges (2·Tq i32), column ranges
// (2·ld i32), Kᵀ and Vᵀ [D, ld], P and dP [Tq, ld].
@inline function rangesBytes(Tq: i32, Tk: i32): i32 {
  return (2 * Tq + 2 * pad4(Tk)) * 4;
}

/** Bytes of scratch attentionForward needs. */
/** q·k over D floats (SIMD over groups of 4, scalar tail). */
@inline function dot(a: usize, b: usize, D: i32): f32 {
  let sv = f4(0);
  let d = 0;
  for (; d + 4 <= D; d += 4) sv = f32x4.add(sv, f32x4.mul(v128.load(addr(a, d)), v128.load(addr(b, d))));
  let s = hsum(sv);
  for (; d < D; d++) s += load<f32>(addr(a, d)) * load<f32>(addr(b, d));
  return s;
}

/** Lanes (Σ a0, Σ a1, Σ a2, Σ a3) of four vectors: the horizontal sums, transposed into one vector. */
@inline function hsum4x4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const s01 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7));
  const s23 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(s01, s23, 0, 1, 4, 5), v128.shuffle<f32>(s01, s23, 2, 3, 6, 7));
}

/**
 * Forward for one query per (batch, head), the KV-cache decoding step: scores are dot products
 * with the keys of the row's unmasked range [lo, hi) read in place (no Kᵀ copy, which would cost
 * as much as the whole product here), four keys at a time; then a softmax over that range and
 * out = Σ p_j·v_j. Keys outside [lo, hi) are masked (p exactly 0) unless the row is fully masked,
 * in which case the range is every key (uniform softmax, as the reference). D must be a multiple
 * of 4 (attentionForward sends other sizes to the general path). Scratch holds pad4(Tk) scores.
 */
function attentionForwardOneQuery(
  q: usize, k: usize, v: usize, mask: usize, out: usize, lse: usize,
  B: i32, H: i32, Tk: i32, D: i32, maskBatchStride: i32, scale: f32, scratch: usize,
): void {
  const keyBytes = <usize>D << 2;
  const scale4 = f4(scale);
  for (let b = 0; b < B; b++) {
    const mrow = addr(mask, b * maskBatchStride);
    let lo = 0;
    while (lo < Tk && load<f32>(addr(mrow, lo)) <= SKIP_BELOW) lo++;
    let hi = Tk;
    while (hi > lo && load<f32>(addr(mrow, hi - 1)) <= SKIP_BELOW) hi--;
    if (lo >= hi) {
      lo = 0;
      hi = Tk;
    }
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const qv = addr(q, bh * D);
      const kb = addr(k, bh * Tk * D);
      const vb = addr(v, bh * Tk * D);
      // Scores s_j = q·k_j·scale + mask_j, four keys per step.
      let mv = f4(-3.4e38);
      let j = lo;
      for (; j + 4 <= hi; j += 4) {
        const k0 = kb + <usize>j * keyBytes;
        let a0 = f4(0), a1 = f4(0), a2 = f4(0), a3 = f4(0);
        for (let d = 0; d < D; d += 4) {
          const qd = v128.load(addr(qv, d));
          const kd = addr(k0, d);
          a0 = f32x4.add(a0, f32x4.mul(qd, v128.load(kd)));
          a1 = f32x4.add(a1, f32x4.mul(qd, v128.load(kd + keyBytes)));
          a2 = f32x4.add(a2, f32x4.mul(qd, v128.load(kd + keyBytes * 2)));
          a3 = f32x4.add(a3, f32x4.mul(qd, v128.load(kd + keyBytes * 3)));
        }
        const sj = f32x4.add(f32x4.mul(hsum4x4(a0, a1, a2, a3), scale4), v128.load(addr(mrow, j)));
        v128.store(addr(scratch, j), sj);
        mv = f32x4.pmax(mv, sj);
      }
      let m = hmax(mv);
      for (; j < hi; j++) {
        const kj = kb + <usize>j * keyBytes;
        let a = f4(0);
        for (let d = 0; d < D; d += 4) a = f32x4.add(a, f32x4.mul(v128.load(addr(qv, d)), v128.load(addr(kj, d))));
        const sj = hsum(a) * scale + load<f32>(addr(mrow, j));
        store<f32>(addr(scratch, j), sj);
        m = max(m, sj);
      }
      // p_j = exp(s_j − m) (unnormalised), Σ p.
      const m4 = f4(m);
      let sv = f4(0);
      j = lo;
      for (; j + 4 <= hi; j += 4) {
        const e = exp4(f32x4.sub(v128.load(addr(scratch, j)), m4));
        v128.store(addr(scratch, j), e);
        sv = f32x4.add(sv, e);
      }
      let sum = hsum(sv);
      for (; j < hi; j++) {
        const e = exp1(load<f32>(addr(scratch, j)) - m);
        store<f32>(addr(scratch, j), e);
        sum += e;
      }
      // out = Σ p_j·v_j / Σ p, accumulated in place in the output row.
      const o = addr(out, bh * D);
      for (let d = 0; d < D; d += 4) v128.store(addr(o, d), f4(0));
      for (j = lo; j < hi; j++) {
        const p = v128.load32_splat(addr(scratch, j));
        const vj = vb + <usize>j * keyBytes;
        for (let d = 0; d < D; d += 4) v128.store(addr(o, d), f32x4.add(v128.load(addr(o, d)), f32x4.mul(p, v128.load(addr(vj, d)))));
      }
      const inv = f4(1.0 / sum);
      for (let d = 0; d < D; d += 4) v128.store(addr(o, d), f32x4.mul(v128.load(addr(o, d)), inv));
      store<f32>(addr(lse, bh), m + logf(sum));
    }
  }
}

export function attentionForwardScratch(Tq: i32, Tk: i32, D: i32): i32 {
  return rangesBytes(Tq, Tk) + (D * pad4(Tk) + Tq * pad4(Tk)) * 4;
}

/** Bytes of scratch attentionBackward needs. */
export function attentionBackwardScratch(Tq: i32, Tk: i32, D: i32): i32 {
  const ld = pad4(Tk);
  return rangesBytes(Tq, Tk) + (2 * D * ld + 2 * Tq * ld) * 4;
}

/**
 * Per query row i of one mask [Tq, Tk]: rowLo[i], rowHi[i] (multiples of 4, hi <= ld) bound the
 * unmasked keys; per key column j: colLo[j], colHi[j] bound the rows whose range covers j.
 */
function maskRanges(mask: usize, Tq: i32, Tk: i32, rowLo: usize, rowHi: usize, colLo: usize, colHi: usize): void {
  const ld = pad4(Tk);
  for (let j = 0; j < ld; j++) {
    store<i32>(addr(colLo, j), Tq);
    store<i32>(addr(colHi, j), 0);
  }
  for (let i = 0; i < Tq; i++) {
    const mrow = addr(mask, i * Tk);
    let lo = 0;
    while (lo < Tk && load<f32>(addr(mrow, lo)) <= SKIP_BELOW) lo++;
    let hi = Tk;
    while (hi > lo && load<f32>(addr(mrow, hi - 1)) <= SKIP_BELOW) hi--;
    if (lo >= hi) {
      lo = 0;
      hi = Tk;
    }
    lo = lo & ~3;
    hi = min(pad4(hi), ld);
    store<i32>(addr(rowLo, i), lo);
    store<i32>(addr(rowHi, i), hi);
    for (let j = lo; j < hi; j++) {
      if (load<i32>(addr(colLo, j)) > i) store<i32>(addr(colLo, j), i);
      store<i32>(addr(colHi, j), i + 1);
    }
  }
}

// row[j] = row[j]*scale + mrow[j] - shift for lo <= j < min(hi, Tk); -3e38 for Tk <= j < hi;
// 0 outside [lo, hi) up to ld.
@inline function scoreRow(row: usize, mrow: usize, lo: i32, hi: i32, Tk: i32, ld: i32, scale: f32, shift: f32): void {
  const sv = f4(scale), hv = f4(shift), zero = f4(0);
  for (let j = 0; j < lo; j += 4) v128.store(addr(row, j), zero);
  for (let j = hi; j < ld; j += 4) v128.store(addr(row, j), zero);
  const end = min(hi, Tk);
  let j = lo;
  for (; j + 4 <= end; j += 4) {
    const s = f32x4.add(f32x4.mul(v128.load(addr(row, j)), sv), v128.load(addr(mrow, j)));
    v128.store(addr(row, j), f32x4.sub(s, hv));
  }
  for (; j < end; j++) store<f32>(addr(row, j), load<f32>(addr(row, j)) * scale + load<f32>(addr(mrow, j)) - shift);
  for (; j < hi; j++) store<f32>(addr(row, j), -3.0e38);
}

// dst[d*ld + j] = src[j*D + d] for j < Tk, and 0 for Tk <= j < ld.
@inline function transposePadded(src: usize, dst: usize, Tk: i32, D: i32, ld: i32): void {
  transpose(src, D, dst, ld, Tk, D);
  for (let d = 0; d < D; d++) for (let j = Tk; j < ld; j++) store<f32>(addr(dst, d * ld + j), 0);
}

// Union of the row ranges of rows i0 .. i0+rows-1.
@inline function blockLo(rowLo: usize, i0: i32, rows: i32): i32 {
  let lo = load<i32>(addr(rowLo, i0));
  for (let r = 1; r < rows; r++) lo = min(lo, load<i32>(addr(rowLo, i0 + r)));
  return lo;
}

@inline function blockHi(rowHi: usize, i0: i32, rows: i32): i32 {
  let hi = load<i32>(addr(rowHi, i0));
  for (let r = 1; r < rows; r++) hi = max(hi, load<i32>(addr(rowHi, i0 + r)));
  return hi;
}

// S[i, lo..hi) = Q[i]·Kᵀ[:, lo..hi) for each 4-row block over the block's column range.
function scoresBlocked(q: usize, kt: usize, s: usize, rowLo: usize, rowHi: usize, Tq: i32, D: i32, ld: i32): void {
  for (let i0 = 0; i0 < Tq; i0 += 4) {
    const rows = min(4, Tq - i0);
    const lo = blockLo(rowLo, i0, rows);
    const hi = blockHi(rowHi, i0, rows);
    gemm(addr(q, i0 * D), D, 0, addr(kt, lo), ld, addr(s, i0 * ld + lo), ld, rows, hi - lo, D, 0);
  }
}

// out[i] = Σ_j P[i, j]·X[j] over the block's column range (clipped to Tk; P is 0 elsewhere).
function rowsTimes(p: usize, x: usize, out: usize, rowLo: usize, rowHi: usize, Tq: i32, Tk: i32, D: i32, ld: i32): void {
  for (let i0 = 0; i0 < Tq; i0 += 4) {
    const rows = min(4, Tq - i0);
    const lo = blockLo(rowLo, i0, rows);
    const hi = min(blockHi(rowHi, i0, rows), Tk);
    gemm(addr(p, i0 * ld + lo), ld, 0, addr(x, lo * D), D, addr(out, i0 * D), D, rows, D, max(hi - lo, 0), 0);
  }
}

// out[j] = Σ_i P[i, j]·X[i] for key rows j (Pᵀ read in place) over the rows covering j.
function colsTimes(p: usize, x: usize, out: usize, colLo: usize, colHi: usize, Tk: i32, D: i32, ld: i32): void {
  for (let j0 = 0; j0 < Tk; j0 += 4) {
    const cols = min(4, Tk - j0);
    const lo = blockLo(colLo, j0, cols);
    const hi = blockHi(colHi, j0, cols);
    gemm(addr(p, lo * ld + j0), ld, 1, addr(x, lo * D), D, addr(out, j0 * D), D, cols, D, max(hi - lo, 0), 0);
  }
}

export function attentionForward(
  q: usize, k: usize, v: usize, mask: usize, out: usize, lse: usize,
  B: i32, H: i32, Tq: i32, Tk: i32, D: i32, maskBatchStride: i32, scale: f32, scratch: usize,
): void {
  if (Tq == 1 && (D & 3) == 0) {
    attentionForwardOneQuery(q, k, v, mask, out, lse, B, H, Tk, D, maskBatchStride, scale, scratch);
    return;
  }
  const ld = pad4(Tk);
  const rowLo = scratch;
  const rowHi = addr(rowLo, Tq);
  const colLo = addr(rowHi, Tq);
  const colHi = addr(colLo, ld);
  const kt = addr(colHi, ld);
  const s = addr(kt, D * ld);
  for (let b = 0; b < B; b++) {
    const maskB = addr(mask, b * maskBatchStride);
    if (b == 0 || maskBatchStride != 0) maskRanges(maskB, Tq, Tk, rowLo, rowHi, colLo, colHi);
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const qbh = addr(q, bh * Tq * D);
      transposePadded(addr(k, bh * Tk * D), kt, Tk, D, ld);
      scoresBlocked(qbh, kt, s, rowLo, rowHi, Tq, D, ld);
      for (let i = 0; i < Tq; i++) {
        const row = addr(s, i * ld);
        const lo = load<i32>(addr(rowLo, i));
        const hi = load<i32>(addr(rowHi, i));
        scoreRow(row, addr(maskB, i * Tk), lo, hi, Tk, ld, scale, 0);
        let mv = f4(-3.4e38);
        for (let j = lo; j < hi; j += 4) mv = f32x4.pmax(mv, v128.load(addr(row, j)));
        const m = hmax(mv);
        const m4 = f4(m);
        let sv = f4(0);
        for (let j = lo; j < hi; j += 4) {
          const e = exp4(f32x4.sub(v128.load(addr(row, j)), m4));
          v128.store(addr(row, j), e);
          sv = f32x4.add(sv, e);
        }
        const sum = hsum(sv);
        const inv = f4(1.0 / sum);
        for (let j = lo; j < hi; j += 4) v128.store(addr(row, j), f32x4.mul(v128.load(addr(row, j)), inv));
        store<f32>(addr(lse, bh * Tq + i), m + logf(sum));
      }
      rowsTimes(s, addr(v, bh * Tk * D), addr(out, bh * Tq * D), rowLo, rowHi, Tq, Tk, D, ld);
    }
  }
}

/**
 * Gradients of attentionForward. Recomputes P from the saved log-sum-exp (nothing of size
 * Tq·Tk is kept between passes). dS = P ⊙ (dO·Vᵀ − rowsum(dO ⊙ O)); dQ = dS·K·scale,
 * dK = dSᵀ·Q·scale, dV = Pᵀ·dO.
 */
export function attentionBackward(
  q: usize, k: usize, v: usize, mask: usize, o: usize, lse: usize, dout: usize,
  dq: usize, dk: usize, dv: usize,
  B: i32, H: i32, Tq: i32, Tk: i32, D: i32, maskBatchStride: i32, scale: f32, scratch: usize,
): void {
  const ld = pad4(Tk);
  const rowLo = scratch;
  const rowHi = addr(rowLo, Tq);
  const colLo = addr(rowHi, Tq);
  const colHi = addr(colLo, ld);
  const kt = addr(colHi, ld);
  const vt = addr(kt, D * ld);
  const p = addr(vt, D * ld);
  const dp = addr(p, Tq * ld);
  const sv = f4(scale);
  const zero = f4(0);
  for (let b = 0; b < B; b++) {
    const maskB = addr(mask, b * maskBatchStride);
    if (b == 0 || maskBatchStride != 0) maskRanges(maskB, Tq, Tk, rowLo, rowHi, colLo, colHi);
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const qbh = addr(q, bh * Tq * D);
      const kbh = addr(k, bh * Tk * D);
      const obh = addr(o, bh * Tq * D);
      const dobh = addr(dout, bh * Tq * D);
      transposePadded(kbh, kt, Tk, D, ld);
      transposePadded(addr(v, bh * Tk * D), vt, Tk, D, ld);
      scoresBlocked(qbh, kt, p, rowLo, rowHi, Tq, D, ld);
      scoresBlocked(dobh, vt, dp, rowLo, rowHi, Tq, D, ld);
      for (let i = 0; i < Tq; i++) {
        const prow = addr(p, i * ld);
        const dprow = addr(dp, i * ld);
        const lo = load<i32>(addr(rowLo, i));
        const hi = load<i32>(addr(rowHi, i));
        const rowLse = load<f32>(addr(lse, bh * Tq + i));
        if (rowLse > SKIP_BELOW) {
          scoreRow(prow, addr(maskB, i * Tk), lo, hi, Tk, ld, scale, rowLse);
        } else {
          // A fully masked row: its scores are ≈ -1e9 and the saved log-sum-exp lost the
          // log-sum to float rounding, so recompute max and log-sum separately.
          scoreRow(prow, addr(maskB, i * Tk), lo, hi, Tk, ld, scale, 0);
          let mv = f4(-3.4e38);
          for (let j = lo; j < hi; j += 4) mv = f32x4.pmax(mv, v128.load(addr(prow, j)));
          const m4 = f4(hmax(mv));
          let sum = f4(0);
          for (let j = lo; j < hi; j += 4) {
            const x = f32x4.sub(v128.load(addr(prow, j)), m4);
            v128.store(addr(prow, j), x);
            sum = f32x4.add(sum, exp4(x));
          }
          const logSum = f4(logf(hsum(sum)));
          for (let j = lo; j < hi; j += 4) v128.store(addr(prow, j), f32x4.sub(v128.load(addr(prow, j)), logSum));
        }
        // rowsum(dO ⊙ O) for this query
        let di: f32 = 0;
        const orow = addr(obh, i * D);
        const dorow = addr(dobh, i * D);
        for (let d = 0; d < D; d++) di += load<f32>(addr(orow, d)) * load<f32>(addr(dorow, d));
        const div = f4(di);
        for (let j = 0; j < lo; j += 4) v128.store(addr(dprow, j), zero);
        for (let j = hi; j < ld; j += 4) v128.store(addr(dprow, j), zero);
        for (let j = lo; j < hi; j += 4) {
          const pj = exp4(v128.load(addr(prow, j)));
          v128.store(addr(prow, j), pj);
          // p = 0 on padding columns, where dP (from zeroed Vᵀ columns) is 0 too.
          const ds = f32x4.mul(pj, f32x4.sub(v128.load(addr(dprow, j)), div));
          v128.store(addr(dprow, j), f32x4.mul(ds, sv));
        }
      }
      rowsTimes(dp, kbh, addr(dq, bh * Tq * D), rowLo, rowHi, Tq, Tk, D, ld);
      colsTimes(dp, qbh, addr(dk, bh * Tk * D), colLo, colHi, Tk, D, ld);
      colsTimes(p, dobh, addr(dv, bh * Tk * D), colLo, colHi, Tk, D, ld);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Token log-probabilities: logp[n] = l[n,t_n] − lse_n, entropy[n] = lse_n − Σ_j p_nj·l_nj.

@inline function rowMax(row: usize, V: i32): f32 {
  let mv = f4(-3.4e38);
  let j = 0;
  for (; j + 4 <= V; j += 4) mv = f32x4.pmax(mv, v128.load(addr(row, j)));
  let m = hmax(mv);
  for (; j < V; j++) m = max(m, load<f32>(addr(row, j)));
  return m;
}

@inline function rowSumExp(row: usize, V: i32, m: f32): f32 {
  const m4 = f4(m);
  let sv = f4(0);
  let j = 0;
  for (; j + 4 <= V; j += 4) sv = f32x4.add(sv, exp4(f32x4.sub(v128.load(addr(row, j)), m4)));
  let s = hsum(sv);
  for (; j < V; j++) s += exp1(load<f32>(addr(row, j)) - m);
  return s;
}

export function tokenLogProbs(logits: usize, targets: usize, N: i32, V: i32, logp: usize, entropy: usize): void {
  for (let n = 0; n < N; n++) {
    const row = addr(logits, n * V);
    const m = rowMax(row, V);
    const m4 = f4(m);
    let sv = f4(0), slv = f4(0);
    let j = 0;
    for (; j + 4 <= V; j += 4) {
      const x = f32x4.sub(v128.load(addr(row, j)), m4);
      const e = exp4(x);
      sv = f32x4.add(sv, e);
      slv = f32x4.add(slv, f32x4.mul(e, x));
    }
    let s = hsum(sv), sl = hsum(slv);
    for (; j < V; j++) {
      const x = load<f32>(addr(row, j)) - m;
      const e = exp1(x);
      s += e;
      sl += e * x;
    }
    const logS = logf(s);
    const t = load<i32>(addr(targets, n));
    store<f32>(addr(logp, n), load<f32>(addr(row, t)) - m - logS);
    // H = −Σ p·(x − log s) with x = l − m, which is log s − Σ e·x / s.
    store<f32>(addr(entropy, n), logS - sl / s);
  }
}

/**
 * d/dl of Σ_n glogp_n·logp_n + gent_n·H_n, which is glogp·(onehot − p) − gent·p·(log p + H).
 * The log-sum-exp is recomputed (one pass over V) instead of being kept from the forward.
 */
export function tokenLogProbsGrad(
  logits: usize, targets: usize, N: i32, V: i32, entropy: usize, glogp: usize, gent: usize, dlogits: usize,
): void {
  for (let n = 0; n < N; n++) {
    const row = addr(logits, n * V);
    const drow = addr(dlogits, n * V);
    const m = rowMax(row, V);
    // log p = (z − m) − log s, not z − (m + log s): for large logits m + log s rounds to the
    // spacing of m and the gradient loses ~1e-4 relative precision.
    const logS = logf(rowSumExp(row, V, m));
    const m4 = f4(m), ls4 = f4(logS);
    const gl = load<f32>(addr(glogp, n));
    const ge = load<f32>(addr(gent, n));
    const hn = load<f32>(addr(entropy, n));
    const gl4 = f4(gl), ge4 = f4(ge), h4 = f4(hn);
    let j = 0;
    for (; j + 4 <= V; j += 4) {
      const lp = f32x4.sub(f32x4.sub(v128.load(addr(row, j)), m4), ls4);
      const p = exp4(lp);
      const d = f32x4.add(f32x4.mul(gl4, p), f32x4.mul(ge4, f32x4.mul(p, f32x4.add(lp, h4))));
      v128.store(addr(drow, j), f32x4.neg(d));
    }
    for (; j < V; j++) {
      const lp = (load<f32>(addr(row, j)) - m) - logS;
      const p = exp1(lp);
      store<f32>(addr(drow, j), -(gl * p + ge * p * (lp + hn)));
    }
    const t = load<i32>(addr(targets, n));
    store<f32>(addr(drow, t), load<f32>(addr(drow, t)) + gl);
  }
}

// ---------------------------------------------------------------------------------------
// Dense-layer pieces: bias rows, column sums (bias gradients), LayerNorm, quick-GELU.
// Every [N, C] matrix is row-major and contiguous. Column sums add rows in chunks of
// SUM_CHUNK into fresh partials before adding those to the total, so the rounding error grows
// with N/SUM_CHUNK + SUM_CHUNK terms instead of N (N is batch·time, thousands of rows).

const SUM_CHUNK = 64;

/** out[n, c] = bias[c] for n < N (the GEMM then accumulates x·w onto it). */
export function biasRows(bias: usize, out: usize, N: i32, C: i32): void {
  const rowBytes = <usize>C << 2;
  for (let n = 0; n < N; n++) {
    const dst = out + <usize>n * rowBytes;
    let c = 0;
    for (; c + 4 <= C; c += 4) v128.store(addr(dst, c), v128.load(addr(bias, c)));
    for (; c < C; c++) store<f32>(addr(dst, c), load<f32>(addr(bias, c)));
  }
}

/** out[n, c] = residual[n, c] + bias[c] (x·w + b added onto a residual stream, then the GEMM). */
export function biasRowsPlus(bias: usize, residual: usize, out: usize, N: i32, C: i32): void {
  for (let n = 0; n < N; n++) {
    const src = addr(residual, n * C);
    const dst = addr(out, n * C);
    let c = 0;
    for (; c + 4 <= C; c += 4) v128.store(addr(dst, c), f32x4.add(v128.load(addr(src, c)), v128.load(addr(bias, c))));
    for (; c < C; c++) store<f32>(addr(dst, c), load<f32>(addr(src, c)) + load<f32>(addr(bias, c)));
  }
}

/** out[c] = Σ_n x[n, c] for x [N, C]; out [C] is overwritten. */
export function columnSum(x: usize, N: i32, C: i32, out: usize): void {
  const rowBytes = <usize>C << 2;
  let c = 0;
  for (; c + 16 <= C; c += 16) {
    let t0 = f4(0), t1 = f4(0), t2 = f4(0), t3 = f4(0);
    for (let n0 = 0; n0 < N; n0 += SUM_CHUNK) {
      const n1 = min(n0 + SUM_CHUNK, N);
      let s0 = f4(0), s1 = f4(0), s2 = f4(0), s3 = f4(0);
      let p = addr(x + <usize>n0 * rowBytes, c);
      for (let n = n0; n < n1; n++) {
        s0 = f32x4.add(s0, v128.load(p));
        s1 = f32x4.add(s1, v128.load(p, 16));
        s2 = f32x4.add(s2, v128.load(p, 32));
        s3 = f32x4.add(s3, v128.load(p, 48));
        p += rowBytes;
      }
      t0 = f32x4.add(t0, s0);
      t1 = f32x4.add(t1, s1);
      t2 = f32x4.add(t2, s2);
      t3 = f32x4.add(t3, s3);
    }
    v128.store(addr(out, c), t0);
    v128.store(addr(out, c), t1, 16);
    v128.store(addr(out, c), t2, 32);
    v128.store(addr(out, c), t3, 48);
  }
  for (; c < C; c++) {
    let t: f32 = 0;
    for (let n0 = 0; n0 < N; n0 += SUM_CHUNK) {
      const n1 = min(n0 + SUM_CHUNK, N);
      let s: f32 = 0;
      for (let n = n0; n < n1; n++) s += load<f32>(addr(x, n * C + c));
      t += s;
    }
    store<f32>(addr(out, c), t);
  }
}

/** Σ row[c] for c < C. */
@inline function rowSum(row: usize, C: i32): f32 {
  let sv = f4(0);
  let c = 0;
  for (; c + 4 <= C; c += 4) sv = f32x4.add(sv, v128.load(addr(row, c)));
  let s = hsum(sv);
  for (; c < C; c++) s += load<f32>(addr(row, c));
  return s;
}

/**
 * LayerNorm over the rows of x [N, C]: y = (x − μ)·r·gain + bias with μ the row mean,
 * r = 1/√(mean((x − μ)²) + eps) (two passes, as tf.moments). Writes μ and r per row for the
 * backward pass.
 */
export function layerNormForward(
  x: usize, gain: usize, bias: usize, y: usize, mean: usize, rstd: usize, N: i32, C: i32, eps: f32,
): void {
  const invC: f32 = 1.0 / <f32>C;
  for (let n = 0; n < N; n++) {
    const row = addr(x, n * C);
    const out = addr(y, n * C);
    const mu = rowSum(row, C) * invC;
    const mu4 = f4(mu);
    let vv = f4(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const d = f32x4.sub(v128.load(addr(row, c)), mu4);
      vv = f32x4.add(vv, f32x4.mul(d, d));
    }
    let v = hsum(vv);
    for (; c < C; c++) {
      const d = load<f32>(addr(row, c)) - mu;
      v += d * d;
    }
    const r: f32 = 1.0 / sqrt<f32>(v * invC + eps);
    const r4 = f4(r);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const xh = f32x4.mul(f32x4.sub(v128.load(addr(row, c)), mu4), r4);
      v128.store(addr(out, c), f32x4.add(f32x4.mul(xh, v128.load(addr(gain, c))), v128.load(addr(bias, c))));
    }
    for (; c < C; c++) {
      const xh = (load<f32>(addr(row, c)) - mu) * r;
      store<f32>(addr(out, c), xh * load<f32>(addr(gain, c)) + load<f32>(addr(bias, c)));
    }
    store<f32>(addr(mean, n), mu);
    store<f32>(addr(rstd, n), r);
  }
}

/** Bytes of scratch layerNormBackward needs: chunk partials of dgain and dbias. */
export function layerNormBackwardScratch(C: i32): i32 {
  return C * 8;
}

/**
 * Backward of layerNormForward. With x̂ = (x − μ)·r and g = dy·gain per row:
 *   dx = r·(g − mean(g) − x̂·mean(g·x̂)),  dgain = Σ_n dy·x̂,  dbias = Σ_n dy.
 * μ and r are the forward's; dgain and dbias are summed in chunks of SUM_CHUNK rows.
 */
export function layerNormBackward(
  x: usize, gain: usize, mean: usize, rstd: usize, dy: usize, dx: usize, dgain: usize, dbias: usize,
  N: i32, C: i32, scratch: usize,
): void {
  const invC: f32 = 1.0 / <f32>C;
  const pg = scratch, pb = scratch + (<usize>C << 2);
  for (let c = 0; c < C; c++) {
    store<f32>(addr(dgain, c), 0);
    store<f32>(addr(dbias, c), 0);
  }
  for (let n0 = 0; n0 < N; n0 += SUM_CHUNK) {
    const n1 = min(n0 + SUM_CHUNK, N);
    for (let c = 0; c < C; c++) {
      store<f32>(addr(pg, c), 0);
      store<f32>(addr(pb, c), 0);
    }
    for (let n = n0; n < n1; n++) {
      const xr = addr(x, n * C), dyr = addr(dy, n * C), dxr = addr(dx, n * C);
      const mu = load<f32>(addr(mean, n)), r = load<f32>(addr(rstd, n));
      const mu4 = f4(mu), r4 = f4(r);
      // Pass 1: mean(g) and mean(g·x̂); chunk partials of dgain, dbias.
      let sg = f4(0), sgx = f4(0);
      let c = 0;
      for (; c + 4 <= C; c += 4) {
        const d = v128.load(addr(dyr, c));
        const xh = f32x4.mul(f32x4.sub(v128.load(addr(xr, c)), mu4), r4);
        const g = f32x4.mul(d, v128.load(addr(gain, c)));
        sg = f32x4.add(sg, g);
        sgx = f32x4.add(sgx, f32x4.mul(g, xh));
        v128.store(addr(pg, c), f32x4.add(v128.load(addr(pg, c)), f32x4.mul(d, xh)));
        v128.store(addr(pb, c), f32x4.add(v128.load(addr(pb, c)), d));
      }
      let mg = hsum(sg), mgx = hsum(sgx);
      for (; c < C; c++) {
        const d = load<f32>(addr(dyr, c));
        const xh = (load<f32>(addr(xr, c)) - mu) * r;
        const g = d * load<f32>(addr(gain, c));
        mg += g;
        mgx += g * xh;
        store<f32>(addr(pg, c), load<f32>(addr(pg, c)) + d * xh);
        store<f32>(addr(pb, c), load<f32>(addr(pb, c)) + d);
      }
      mg *= invC;
      mgx *= invC;
      // Pass 2: dx.
      const mg4 = f4(mg), mgx4 = f4(mgx);
      c = 0;
      for (; c + 4 <= C; c += 4) {
        const xh = f32x4.mul(f32x4.sub(v128.load(addr(xr, c)), mu4), r4);
        const g = f32x4.mul(v128.load(addr(dyr, c)), v128.load(addr(gain, c)));
        v128.store(addr(dxr, c), f32x4.mul(r4, f32x4.sub(f32x4.sub(g, mg4), f32x4.mul(xh, mgx4))));
      }
      for (; c < C; c++) {
        const xh = (load<f32>(addr(xr, c)) - mu) * r;
        const g = load<f32>(addr(dyr, c)) * load<f32>(addr(gain, c));
        store<f32>(addr(dxr, c), r * (g - mg - xh * mgx));
      }
    }
    for (let c = 0; c < C; c++) {
      store<f32>(addr(dgain, c), load<f32>(addr(dgain, c)) + load<f32>(addr(pg, c)));
      store<f32>(addr(dbias, c), load<f32>(addr(dbias, c)) + load<f32>(addr(pb, c)));
    }
  }
}

/** out[n] = tok[ids[n]] + pos[posIds[n]] for rows of C floats (ids already range-checked). */
export function embedSum(tok: usize, pos: usize, ids: usize, posIds: usize, out: usize, N: i32, C: i32): void {
  for (let n = 0; n < N; n++) {
    const t = addr(tok, load<i32>(addr(ids, n)) * C);
    const p = addr(pos, load<i32>(addr(posIds, n)) * C);
    const o = addr(out, n * C);
    let c = 0;
    for (; c + 4 <= C; c += 4) v128.store(addr(o, c), f32x4.add(v128.load(addr(t, c)), v128.load(addr(p, c))));
    for (; c < C; c++) store<f32>(addr(o, c), load<f32>(addr(t, c)) + load<f32>(addr(p, c)));
  }
}

/**
 * For each of BH blocks: copies x's [T, D] block into columns [offset, offset + T) of the
 * cache's [C, D] block (the KV-cache write of a decoding step).
 */
export function writeColumns(x: usize, cache: usize, BH: i32, T: i32, D: i32, C: i32, offset: i32): void {
  const n = T * D;
  for (let bh = 0; bh < BH; bh++) {
    const src = addr(x, bh * n);
    const dst = addr(cache, (bh * C + offset) * D);
    let i = 0;
    for (; i + 4 <= n; i += 4) v128.store(addr(dst, i), v128.load(addr(src, i)));
    for (; i < n; i++) store<f32>(addr(dst, i), load<f32>(addr(src, i)));
  }
}

/**
 * Forks cache rows: out[r, h, j] = cache[rows[r], h, j] for j < columns, 0 for columns <= j <
 * capacity (cache [B, H, C, D], out [R, H, capacity, D]; rows already range-checked).
 */
export function forkRows(cache: usize, rows: usize, out: usize, R: i32, H: i32, C: i32, D: i32, columns: i32, capacity: i32): void {
  const n = columns * D;
  const zeros = (capacity - columns) * D;
  for (let r = 0; r < R; r++) {
    const b = load<i32>(addr(rows, r));
    for (let h = 0; h < H; h++) {
      const src = addr(cache, (b * H + h) * C * D);
      const dst = addr(out, (r * H + h) * capacity * D);
      let i = 0;
      for (; i + 4 <= n; i += 4) v128.store(addr(dst, i), v128.load(addr(src, i)));
      for (; i < n; i++) store<f32>(addr(dst, i), load<f32>(addr(src, i)));
      const z = addr(dst, n);
      i = 0;
      for (; i + 4 <= zeros; i += 4) v128.store(addr(z, i), f4(0));
      for (; i < zeros; i++) store<f32>(addr(z, i), 0);
    }
  }
}

// Quick-GELU y = x·σ(1.702x), σ(z) = 1/(1 + e^(−z)); e^(−z) saturates (exp4 clamps its input to
// [-87.3, 88.3]), so σ stays in [0, 1] and y finite for any finite x.
const GELU_K: f32 = 1.702;

@inline function sigmoid4(z: v128): v128 {
  return f32x4.div(f4(1.0), f32x4.add(f4(1.0), exp4(f32x4.neg(z))));
}

/**
 * y = x·σ(1.702x) over n elements; also writes σ(1.702x) to `sig` when it is not 0 (the
 * backward pass then needs no exp or division, the costly part here).
 */
export function quickGeluForward(x: usize, y: usize, sig: usize, n: i32): void {
  const k4 = f4(GELU_K);
  let i = 0;
  // Two vectors per step: two independent exp/division chains keep more of the core busy.
  for (; i + 8 <= n; i += 8) {
    const v0 = v128.load(addr(x, i));
    const v1 = v128.load(addr(x, i), 16);
    const s0 = sigmoid4(f32x4.mul(v0, k4));
    const s1 = sigmoid4(f32x4.mul(v1, k4));
    v128.store(addr(y, i), f32x4.mul(v0, s0));
    v128.store(addr(y, i), f32x4.mul(v1, s1), 16);
    if (sig) {
      v128.store(addr(sig, i), s0);
      v128.store(addr(sig, i), s1, 16);
    }
  }
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(addr(x, i));
    const s = sigmoid4(f32x4.mul(v, f4(GELU_K)));
    v128.store(addr(y, i), f32x4.mul(v, s));
    if (sig) v128.store(addr(sig, i), s);
  }
  for (; i < n; i++) {
    const v = load<f32>(addr(x, i));
    const s = f32x4.extract_lane(sigmoid4(f4(v * GELU_K)), 0);
    store<f32>(addr(y, i), v * s);
    if (sig) store<f32>(addr(sig, i), s);
  }
}

/** dx = dy·(σ + 1.702·x·σ·(1 − σ)) from the forward's σ = σ(1.702x): the derivative of quickGeluForward. */
export function quickGeluBackward(x: usize, sig: usize, dy: usize, dx: usize, n: i32): void {
  const k4 = f4(GELU_K), one = f4(1.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(addr(x, i));
    const s = v128.load(addr(sig, i));
    const d = f32x4.add(s, f32x4.mul(f32x4.mul(k4, v), f32x4.mul(s, f32x4.sub(one, s))));
    v128.store(addr(dx, i), f32x4.mul(v128.load(addr(dy, i)), d));
  }
  for (; i < n; i++) {
    const v = load<f32>(addr(x, i));
    const s = load<f32>(addr(sig, i));
    store<f32>(addr(dx, i), load<f32>(addr(dy, i)) * (s + GELU_K * v * s * (1 - s)));
  }
}

// ---------------------------------------------------------------------------------------
// Peak probe: 12 independent f32x4 chains a = a·x + y with no memory traffic (8 flops per
// chain per iteration, 96 per iteration), an estimate of the machine's wasm SIMD ceiling for
// separate multiply and add (wasm SIMD has no FMA outside the relaxed-SIMD proposal).

export function peakProbe(iters: i32, seed: f32): f32 {
  const x = f4(0.999), y = f4(1e-3);
  let a0 = f4(seed), a1 = f4(seed + 1), a2 = f4(seed + 2), a3 = f4(seed + 3);
  let a4 = f4(seed + 4), a5 = f4(seed + 5), a6 = f4(seed + 6), a7 = f4(seed + 7);
  let a8 = f4(seed + 8), a9 = f4(seed + 9), a10 = f4(seed + 10), a11 = f4(seed + 11);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.add(f32x4.mul(a0, x), y);
    a1 = f32x4.add(f32x4.mul(a1, x), y);
    a2 = f32x4.add(f32x4.mul(a2, x), y);
    a3 = f32x4.add(f32x4.mul(a3, x), y);
    a4 = f32x4.add(f32x4.mul(a4, x), y);
    a5 = f32x4.add(f32x4.mul(a5, x), y);
    a6 = f32x4.add(f32x4.mul(a6, x), y);
    a7 = f32x4.add(f32x4.mul(a7, x), y);
    a8 = f32x4.add(f32x4.mul(a8, x), y);
    a9 = f32x4.add(f32x4.mul(a9, x), y);
    a10 = f32x4.add(f32x4.mul(a10, x), y);
    a11 = f32x4.add(f32x4.mul(a11, x), y);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return hsum(f32x4.add(s, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11))));
}
